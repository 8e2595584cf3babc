// The human view of a plan: what an operator reads before approving a campaign. Problems first when the plan
// cannot run; then the summary, warnings and the wave table (start instants, with what each group waits for). Long lists are cut (first and last entries) so the
// view stays readable at 20,000 hosts; `--all` shows everything and `--json` has it all anyway.

import Table from 'cli-table3';
import type { PlanFile, PlannedGroup, PlannedWave, PlanProblem } from '../../model/plan.ts';
import { formatDuration, formatOffset } from './duration.ts';
import type { Style } from './style.ts';

export interface PlanTextOptions {
  style: Style;
  /** Show every wave, group, problem and warning. */
  all: boolean;
  /** Where the plan was written (--out), to mention it. */
  writtenTo?: string;
}

export const WAVES_HEAD = 20;
export const WAVES_TAIL = 5;
const GROUPS_PER_WAVE = 4;
const PROBLEMS_SHOWN = 20;
const WARNINGS_SHOWN = 20;
const NAMES_SHOWN = 5;

export function renderPlanText(plan: PlanFile, options: PlanTextOptions): string {
  const blocks: string[] = [header(plan, options)];
  if (!plan.summary.runnable) blocks.push(problems(plan.problems, options));
  blocks.push(summary(plan, options));
  if (plan.summary.runnable && plan.problems.length > 0) blocks.push(problems(plan.problems, options));
  if (plan.warnings.length > 0) blocks.push(warnings(plan.warnings, options));
  blocks.push(waveTable(plan, options));
  if (options.writtenTo) blocks.push(`Plan written to ${options.writtenTo} (${plan.fingerprint}).`);
  return `${blocks.join('\n\n')}\n`;
}

function header(plan: PlanFile, { style }: PlanTextOptions): string {
  const sources = [...plan.inputs.inventory, ...(plan.inputs.ansible ? [`ansible: ${plan.inputs.ansible}`] : [])];
  return `${style.bold('hvroll plan')}  ${sources.join(', ')}  ${style.dim(`(strategy ${plan.settings.strategy})`)}`;
}

function summary(plan: PlanFile, { style }: PlanTextOptions): string {
  const s = plan.summary;
  const excess = s.migrationsLowerBound === 0 ? 0 : ((s.migrations - s.migrationsLowerBound) / s.migrationsLowerBound) * 100;
  const moved = s.movedMoreThanOnce;
  const rows: [string, string][] = [
    ['Hosts', String(s.hosts)],
    ['VMs', String(s.vms)],
    ['Groups', `${s.groups}${classBreakdown(plan.groups)}`],
    ['Waves', `${s.waves} ${style.dim('(start instants: each group starts when the groups it waits for are done, no barrier)')}`],
    // The excess over the lower bound only means something for a complete plan.
    ['Migrations', `${s.migrations} (lower bound ${s.migrationsLowerBound}${s.runnable ? `, +${excess.toFixed(1)} %` : ', plan incomplete'})`],
    ['Moved > once', moved.length === 0 ? 'none: every VM moves at most once' : style.yellow(`${moved.length} VM(s): ${listSome(moved, NAMES_SHOWN)}`)],
    ['Est. duration', `${formatDuration(s.estimatedSeconds)}${plan.groups.some((g) => g.approval) ? style.dim(' (approval waits not included)') : ''}`],
    ['Runnable', s.runnable ? style.green('yes') : style.red(`NO: ${plan.problems.length} problem(s), listed above`)],
    ['Fingerprint', style.dim(plan.fingerprint)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [style.bold('Summary'), ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}

/** `(spare 1, canary 2, standard 40, db-critical 3)`, in campaign order. */
function classBreakdown(groups: readonly PlannedGroup[]): string {
  const counts = new Map<string, number>();
  for (const g of groups) counts.set(g.class, (counts.get(g.class) ?? 0) + 1);
  return counts.size === 0 ? '' : ` (${[...counts].map(([c, n]) => `${c} ${n}`).join(', ')})`;
}

function listSome(names: readonly string[], n: number): string {
  return names.length <= n ? names.join(', ') : `${names.slice(0, n).join(', ')} … and ${names.length - n} more`;
}

function problems(list: readonly PlanProblem[], { style, all }: PlanTextOptions): string {
  const shown = all ? list : list.slice(0, PROBLEMS_SHOWN);
  const lines = [style.bold(style.red(`Problems (${list.length}): the plan cannot run as it stands`))];
  for (const p of shown) {
    const where = [`group ${p.group}`, p.vm ? `vm ${p.vm}` : undefined, p.constraint].filter(Boolean).join(' · ');
    lines.push(`  ${style.red('✖')} ${where}`, `    ${p.message}`, `    ${style.cyan('fix:')} ${p.fix}`);
  }
  if (shown.length < list.length) lines.push(style.dim(`  … ${list.length - shown.length} more problem(s) not shown (use --all or --json)`));
  return lines.join('\n');
}

function warnings(list: readonly string[], { style, all }: PlanTextOptions): string {
  const shown = all ? list : list.slice(0, WARNINGS_SHOWN);
  const lines = [style.bold(`Warnings (${list.length})`), ...shown.map((w) => `  ${style.yellow('!')} ${w}`)];
  if (shown.length < list.length) lines.push(style.dim(`  … ${list.length - shown.length} more warning(s) not shown (use --all or --json)`));
  return lines.join('\n');
}

function waveTable(plan: PlanFile, options: PlanTextOptions): string {
  const { style, all } = options;
  if (plan.waves.length === 0) return style.dim('No waves: no group could be scheduled.');
  const byName = new Map(plan.groups.map((g) => [g.name, g]));
  const table = new Table({
    head: ['Wave', 'Start → end', 'Group', 'Class/tier', 'Hosts', 'Moves', 'Approval', 'Why here'].map((h) => style.bold(h)),
    colWidths: [null, null, null, null, null, null, null, 56],
    wordWrap: true,
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
  });
  const cut = !all && plan.waves.length > WAVES_HEAD + WAVES_TAIL;
  const shown = cut ? [...plan.waves.slice(0, WAVES_HEAD), ...plan.waves.slice(-WAVES_TAIL)] : plan.waves;
  shown.forEach((wave, i) => {
    if (cut && i === WAVES_HEAD) {
      const hidden = plan.waves.length - WAVES_HEAD - WAVES_TAIL;
      table.push([{ colSpan: 8, content: style.dim(`… ${hidden} waves not shown (use --all or --json)`), hAlign: 'center' }]);
    }
    for (const row of waveRows(wave, byName, options)) table.push(row);
  });
  return `${style.bold('Waves')}\n${table.toString()}`;
}

type Row = Table.HorizontalTableRow;

function waveRows(wave: PlannedWave, byName: ReadonlyMap<string, PlannedGroup>, { style, all }: PlanTextOptions): Row[] {
  const groups = wave.groups.map((n) => byName.get(n)).filter((g): g is PlannedGroup => g !== undefined);
  const listed = all || groups.length <= GROUPS_PER_WAVE ? groups : groups.slice(0, GROUPS_PER_WAVE - 1);
  const rest = groups.slice(listed.length);
  const span = listed.length + (rest.length > 0 ? 1 : 0);
  let previous = '';
  const rows: Row[] = listed.map((g) => {
    const reason = groupReason(g, style);
    const said = reason === previous ? style.dim('same as above') : reason;
    previous = reason;
    const shown = g.after.length === 0 ? said : `${said}\n${style.dim(`after ${listSome(g.after, 3)}`)}`;
    return [
      g.name,
      `${g.class}/${g.tier}`,
      { content: g.hosts.length, hAlign: 'right' },
      { content: moveCount(g, style), hAlign: 'right' },
      g.approval ? style.yellow('needs approval') : '',
      shown,
    ];
  });
  if (rest.length > 0) {
    rows.push([
      style.dim(`… ${rest.length} more groups`),
      '',
      { content: rest.reduce((n, g) => n + g.hosts.length, 0), hAlign: 'right' },
      { content: rest.reduce((n, g) => n + g.moves.length, 0), hAlign: 'right' },
      rest.some((g) => g.approval) ? style.yellow('some need it') : '',
      style.dim('(use --all)'),
    ]);
  }
  // Why the wave ends here goes under the last row's reason: spanning cells misalign with wrapped columns.
  const last = rows[rows.length - 1]!;
  last[last.length - 1] = `${String(last[last.length - 1])}\n${style.dim(`↳ no other group started then: ${wave.closedBy}`)}`;
  rows[0]!.unshift({ rowSpan: span, content: String(wave.index) }, { rowSpan: span, content: `${formatOffset(wave.startSeconds)}\n→ ${formatOffset(wave.endSeconds)}` });
  return rows;
}

function moveCount(g: PlannedGroup, style: Style): string {
  const repeats = g.moves.reduce((n, m) => n + (m.repeat ? 1 : 0), 0);
  return repeats === 0 ? String(g.moves.length) : `${g.moves.length} ${style.yellow(`(${repeats} again)`)}`;
}

/** Clauses the Class/tier and Approval columns already say; dropped from the table (kept in --json). */
const SAID_BY_COLUMNS = new Set(['normal order', 'most sensitive classes go last', 'canary classes go before the rest', 'needs approval before draining']);

/** The group's reason, minus what other columns already say; trouble first. */
function groupReason(g: PlannedGroup, style: Style): string {
  const reason = g.reason
    .split('; ')
    .filter((clause) => !SAID_BY_COLUMNS.has(clause))
    .join('; ');
  switch (g.status) {
    case 'ready':
      return reason;
    case 'blocked':
      return `${style.red('BLOCKED')} (non-migratable VMs): ${reason}`;
    case 'infeasible':
      return `${style.red('INFEASIBLE')} (a VM has no target): ${reason}`;
    case 'skipped':
      return `${style.dim('skipped')}: ${reason}`;
  }
}
