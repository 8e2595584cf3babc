import test from 'ava';
import { generateFleet } from '../../src/fleet/generate.ts';
import type { PlanFile } from '../../src/model/plan.ts';
import { formatDuration, formatOffset } from '../../src/cli/render/duration.ts';
import { renderPlanText, WAVES_HEAD, WAVES_TAIL } from '../../src/cli/render/plan-text.ts';
import { createStyle } from '../../src/cli/render/style.ts';
import { toPlanFile } from '../../src/plan-file/plan-file.ts';
import { buildPlan } from '../../src/planner/plan.ts';

test('durations read like an operator writes them', (t) => {
  t.is(formatDuration(0), '0s');
  t.is(formatDuration(45), '45s');
  t.is(formatDuration(600), '10m');
  t.is(formatDuration(3 * 3600 + 10 * 60), '3h 10m');
  t.is(formatDuration(2 * 86400 + 3 * 3600 + 10 * 60), '2d 3h 10m');
  t.is(formatOffset(0), '+0m');
  t.is(formatOffset(3900), '+1h 05m');
});

function planOf(hosts: number): PlanFile {
  const inv = generateFleet({ hosts, vmsPerHost: 10, utilisation: 0.6, seed: 9 });
  return toPlanFile(buildPlan(inv), { fingerprint: `sha256:${'0'.repeat(64)}`, inputs: { inventory: ['generated'], ansible: null, runbook: null } });
}

test('a long campaign shows the first and last waves and says how many are hidden', (t) => {
  const plan = planOf(600);
  t.true(plan.waves.length > WAVES_HEAD + WAVES_TAIL, `only ${plan.waves.length} waves`);
  const text = renderPlanText(plan, { style: createStyle(false), all: false });
  const hidden = plan.waves.length - WAVES_HEAD - WAVES_TAIL;
  t.true(text.includes(`… ${hidden} waves not shown`));
  t.regex(text, new RegExp(`│ ${plan.waves.length - 1}\\s+│`), 'the last wave is shown');
  t.notRegex(text, new RegExp(`│ ${WAVES_HEAD}\\s+│`), 'the first hidden wave is not');
  const all = renderPlanText(plan, { style: createStyle(false), all: true });
  t.false(all.includes('waves not shown'));
  t.regex(all, new RegExp(`│ ${WAVES_HEAD}\\s+│`));
});

test('colour only when asked for', (t) => {
  const plan = planOf(30);
  t.false(renderPlanText(plan, { style: createStyle(false), all: false }).includes('\u001b['));
  t.true(renderPlanText(plan, { style: createStyle(true), all: false }).includes('\u001b['));
});
