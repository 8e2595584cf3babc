// Human output of `hvroll simulate`: one block per strategy, then the comparison.

import type { SimReport, SimRunReport } from '../../app/simulate.ts';

function duration(seconds: number): string {
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return [d ? `${d}d` : '', h || d ? `${h}h` : '', `${m}m`, d ? '' : `${s % 60}s`].filter(Boolean).join(' ');
}

const n = (x: number) => x.toLocaleString('en-US');

function run(r: SimRunReport): string {
  const lb = r.lowerBound;
  const o = r.orchestrator;
  const lines = [
    `${r.strategy}: ${n(r.hosts)} hosts, ${n(r.vms)} VMs, ${n(r.groups)} groups in ${n(r.waves)} waves → ${r.outcome}${r.failedGroups.length ? ` (${r.failedGroups.length} group(s) failed: ${r.failedGroups.slice(0, 5).join(', ')})` : ''}`,
    `  makespan             ${duration(r.makespanSeconds)} (${n(r.makespanSeconds)} s) = ${r.makespanRatio} × T_LB; plan estimated ${duration(r.plannedSeconds)}`,
    `  lower bound T_LB     ${duration(lb.seconds)}: max(work ${n(lb.workSeconds)} s with k_eff ${lb.kEff} [concurrency ${lb.kConcurrency}, capacity ${lb.kCapacity}], longest host ${n(lb.longestHostSeconds)} s, migration ${n(lb.migrationSeconds)} s)`,
    `  rules-aware bound    ${duration(lb.rulesSeconds)} (makespan = ${r.makespanRatioRules} × it): order tiers in sequence, ${lb.tiers.filter((x) => x.groups > 0).map((x) => `${x.tier} ${n(x.seconds)} s${x.chain && x.chain.seconds >= x.seconds ? ` (class ${x.chain.class}, ${x.chain.limit} at once)` : ''}`).join(' + ')}`,
    `  migrations           ${n(r.migrations.done)} (lower bound ${n(r.migrations.lowerBound)}, ×${r.migrations.ratio}; ${n(r.migrations.failedAttempts)} failed attempt(s))`,
    `  moved more than once ${n(r.migrations.movedMoreThanOnce)} VM(s) (more than twice: ${n(r.migrations.movedMoreThanTwice)})`,
    `  hosts in maintenance peak ${r.maintenance.peak} (k_eff ${r.maintenance.kEff}, limit ${r.maintenance.limit})`,
    `  safety violations    ${r.violations.total} (capacity ${r.violations.capacity}, anti-affinity ${r.violations['anti-affinity']}, headroom ${r.violations.headroom}, maintenance ${r.violations.maintenance}; in-flight migrations count on both hosts)`,
    ...r.violations.examples.slice(0, 5).map((v) => `    at +${Math.round(v.atMs / 1000)} s ${v.kind} on ${v.host}: ${v.message}`),
    `  final placement      ${r.placementMismatches === null ? 'not checked (campaign did not finish)' : r.placementMismatches === 0 ? 'every VM where the plan put it' : `${r.placementMismatches} VM(s) not where the plan put them`}`,
    `  orchestrator         ${o.cpuSeconds} s CPU, ${o.wallSeconds} s wall; ${n(o.commands)} commands; ${n(o.checkpoints)} checkpoints, ${n(o.checkpointBytes)} bytes (${o.bytesPerCheckpoint} B each)`,
  ];
  return lines.join('\n');
}

export function renderSimReport(report: SimReport): string {
  const s = report.settings;
  const head = `simulated in virtual time, seed ${report.seed}; spread ${s.spread}, failures: migrations ${s.migrationFailRate}, upgrades ${s.upgradeFailRate}, verifications ${s.verifyFailRate}`;
  const parts = [head, ...report.runs.map(run)];
  if (report.comparison) {
    parts.push(`upgrade-aware vs naive: migrations ×${report.comparison.migrations.toFixed(3)}, makespan ×${report.comparison.makespan.toFixed(3)}`);
  }
  return `${parts.join('\n\n')}\n`;
}
