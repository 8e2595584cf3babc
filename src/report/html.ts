// The report as one self-contained HTML file: inline CSS and SVG, no script, no external URL, so it opens
// offline and can be attached to a change ticket. Every text from the campaign is escaped.

import type { CampaignReport, GroupReport, Phase } from './model.ts';
import { PHASES } from './model.ts';

const COLOR: Record<Phase, string> = {
  disable: '#8e9aaf',
  drain: '#4e79a7',
  upgrade: '#f28e2b',
  reboot: '#e15759',
  verify: '#76b7b2',
  enable: '#59a14f',
  rollback: '#b07aa1',
};

/** Long campaigns: tables are cut here (the JSON from `hvroll audit --json` has everything). */
const MAX_ROWS = 5000;

export const esc = (s: unknown): string =>
  String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function dur(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function table(head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${esc(empty)}</p>`;
  const cut = rows.length > MAX_ROWS ? `<p class="empty">first ${MAX_ROWS} of ${rows.length} rows</p>` : '';
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .slice(0, MAX_ROWS)
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>${cut}`;
}

/** Gantt: one `<g class="bar">` per group; planned as a thin outlined strip above, actual as phase-coloured blocks. */
function timeline(r: CampaignReport): string {
  const label = 170;
  const width = 1000;
  const row = 22;
  const top = 24;
  const span = Math.max(1, r.plan.estimatedSeconds, r.actualSeconds ?? 0, ...r.groups.flatMap((g) => [...g.planned, ...g.actual].map((s) => s.end)));
  const x = (t: number) => label + (Math.max(0, t) / span) * (width - label - 10);
  const w = (a: number, b: number) => Math.max(1.5, x(b) - x(a));
  const bars = r.groups.map((g: GroupReport, i) => {
    const y = top + i * row;
    const planned = g.planned.map((s) => `<rect class="planned" x="${x(s.start).toFixed(1)}" y="${y + 2}" width="${w(s.start, s.end).toFixed(1)}" height="5" fill="${COLOR[s.phase]}" fill-opacity="0.35" stroke="${COLOR[s.phase]}"/>`).join('');
    const actual = g.actual.map((s) => `<rect class="actual phase-${s.phase}" x="${x(s.start).toFixed(1)}" y="${y + 8}" width="${w(s.start, s.end).toFixed(1)}" height="11" fill="${COLOR[s.phase]}"><title>${esc(`${g.name} ${s.phase}: ${dur(s.start)} → ${dur(s.end)}`)}</title></rect>`).join('');
    return `<g class="bar state-${esc(g.state)}" data-group="${esc(g.name)}"><text x="4" y="${y + 16}" class="label">${esc(g.name)}</text>${planned}${actual}</g>`;
  });
  const ticks = Array.from({ length: 6 }, (_, k) => (span * k) / 5)
    // The last label ends at its tick, so it stays inside the drawing.
    .map((t, k) => `<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${top + r.groups.length * row}" class="tick"/><text x="${k === 5 ? x(t) - 2 : x(t) + 2}" y="${top - 10}"${k === 5 ? ' text-anchor="end"' : ''} class="tick-label">${esc(dur(t))}</text>`)
    .join('');
  const height = top + r.groups.length * row + 8;
  return `<svg class="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline: one bar per group">${ticks}${bars.join('')}</svg>`;
}

function legend(): string {
  return `<p class="legend">${PHASES.map((p) => `<span><i style="background:${COLOR[p]}"></i>${p}</span>`).join('')} <span>thin strip: planned · block: actual</span></p>`;
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde;padding-bottom:4px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #eef;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f5fa}pre{background:#f6f7f9;padding:6px;margin:4px 0;white-space:pre-wrap;font-size:12px;max-height:20em;overflow:auto}
.kv{display:grid;grid-template-columns:max-content auto;gap:2px 16px}.kv dt{color:#667}.kv dd{margin:0}
.timeline .label{font-size:11px;fill:#333}.timeline .tick{stroke:#e3e5ee}.timeline .tick-label{font-size:10px;fill:#889}
.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.state-failed .label{fill:#c00;font-weight:600}.bad{color:#c00;font-weight:600}.empty{color:#889}
.muted{color:#667}code{font-size:12px}`;

export function renderReport(r: CampaignReport): string {
  const c = r.campaign;
  const summary: [string, string][] = [
    ['Campaign', c ? c.campaignId : '(plan only — nothing has run)'],
    ...(c ? ([['Started', `${c.createdAt} by ${c.operator}`]] as [string, string][]) : []),
    ['Groups', `${r.plan.groups} in ${r.plan.waves} waves · ${Object.entries(r.states).map(([k, v]) => `${v} ${k}`).join(', ')}`],
    ['Hosts / VMs', `${r.plan.hosts} / ${r.plan.vms}`],
    ['Migrations', `${r.plan.migrations} planned`],
    ['Duration', `planned ${dur(r.plan.estimatedSeconds)} · actual ${dur(r.actualSeconds)}`],
    ['Failures', String(r.failures.length)],
    ['Out of the pool', r.outOfPool.length === 0 ? 'none' : r.outOfPool.map((o) => o.host).join(', ')],
    ['Two-person rule', r.plan.twoPersonRule ? 'on' : 'off'],
    ['Plan', `${r.plan.fingerprint} (made ${r.plan.generatedAt})`],
  ];
  const groups = table(
    ['group', 'wave', 'class', 'hosts', 'moves', 'approval', 'state', 'planned', 'actual', 'commands', 'error'],
    r.groups.map((g) => {
      const a = g.actual.length ? g.actual[g.actual.length - 1]!.end - g.actual[0]!.start : null;
      const p = g.planned[g.planned.length - 1]!.end - g.planned[0]!.start;
      return [esc(g.name), String(g.wave + 1), esc(g.class), esc(g.hosts.join(', ')), String(g.moves), g.approval ? 'yes' : '', `<span class="${g.state === 'failed' ? 'bad' : ''}">${esc(g.state)}</span>`, dur(p), dur(a), String(g.commands), esc(g.error ?? '')];
    }),
    'no groups',
  );
  const failures = table(
    ['when', 'group', 'host', 'step', 'exit', 'error and output'],
    r.failures.map((f) => [esc(f.at), esc(f.group), esc(f.host), esc(f.step), f.exitCode === null ? '–' : String(f.exitCode), `${f.error ? `<div class="bad">${esc(f.error)}</div>` : ''}<code>${esc(f.argv)}</code>${f.output ? `<pre>${esc(f.output)}</pre>` : ''}`]),
    'no failed commands',
  );
  const migrations = table(
    ['vm', 'from', 'to', 'group', 'result', 'planned', 'actual', 'note'],
    r.migrations.map((m) => [esc(m.vm), esc(m.from), esc(m.to), esc(m.group), `<span class="${m.result === 'failed' ? 'bad' : ''}">${esc(m.result)}</span>`, dur(m.plannedSeconds), dur(m.seconds), m.repeat ? 'moves again (landed on a host upgraded later)' : '']),
    'no migrations',
  );
  const pool = table(
    ['host', 'group', 'state', 'why, or who released it'],
    [
      ...r.outOfPool.map((o) => [esc(o.host), esc(o.group), '<span class="bad">out of the pool</span>', esc(o.why)]),
      ...r.released.map((x) => [esc(x.host), esc(x.group), 'released', esc(`by ${x.operator} at ${x.at}${x.comment ? `: ${x.comment}` : ''}`)]),
    ],
    r.campaign ? 'no host left out of the pool' : 'a plan has left no host out yet',
  );
  const audit = table(
    ['when', 'who', 'kind', 'action', 'group', 'host', 'what', 'result'],
    r.audit.map((a) => [esc(a.at), esc(a.operator), a.kind, esc(a.action), esc(a.group ?? ''), esc(a.host ?? ''), `<code>${esc(a.what)}</code>`, esc(a.result)]),
    r.campaign ? 'nothing recorded' : 'a plan has no audit trail yet',
  );
  const notes = table(
    ['when', 'channel', 'event', 'status', 'attempts', 'detail'],
    r.notifications.map((n) => [esc(n.at), esc(n.channel), esc(n.event), esc(n.status), String(n.attempts ?? ''), esc(n.detail ?? '')]),
    'no notifications sent',
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(r.title)} — hvroll report</title><style>${CSS}</style></head>
<body>
<h1>${esc(r.title)}</h1><p class="muted">hvroll report generated ${esc(r.generatedAt)}</p>
<h2 id="summary">Summary</h2><dl class="kv">${summary.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<h2 id="timeline">Timeline</h2>${legend()}${timeline(r)}
<h2 id="groups">Groups</h2>${groups}
<h2 id="failures">Failures</h2>${failures}
<h2 id="migrations">Migrations per VM</h2>${migrations}
<h2 id="out-of-pool">Hosts out of the pool</h2>${pool}
<h2 id="audit">Audit trail</h2>${audit}
<h2 id="notifications">Notifications</h2>${notes}
</body></html>
`;
}
