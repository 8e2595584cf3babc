// `npm run bench [-- --only plan|store|sim]`: runs the benchmarks, prints a table, writes bench/results/<name>.json.

import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { benchPlan, formatPlanBench } from './plan.ts';
import { benchSim, formatSimBench } from './sim.ts';
import { benchStore } from './store.ts';

interface Bench {
  run(log: (line: string) => void): Promise<unknown>;
  format(result: unknown): string;
}

const BENCHES: Record<string, Bench> = {
  plan: { run: (log) => benchPlan(log), format: (r) => formatPlanBench(r as Awaited<ReturnType<typeof benchPlan>>) },
  sim: { run: (log) => benchSim(log), format: (r) => formatSimBench(r as Awaited<ReturnType<typeof benchSim>>) },
  store: {
    run: () => benchStore(),
    format: (r) => Object.entries(r as Record<string, number>).map(([k, v]) => `${k.padEnd(40)} ${v}`).join('\n'),
  },
};

function selected(argv: string[]): string[] {
  const at = argv.indexOf('--only');
  if (at === -1) return Object.keys(BENCHES);
  const names = (argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes one or more of: ${Object.keys(BENCHES).join(', ')} (got "${argv[at + 1] ?? ''}")`);
  }
  return names;
}

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);

try {
  for (const name of selected(process.argv.slice(2))) {
    log(`== ${name}`);
    const result = await BENCHES[name]!.run(log);
    process.stdout.write(`\n${name}\n${BENCHES[name]!.format(result)}\n`);
    await mkdir(resultsDir, { recursive: true });
    await writeFile(`${resultsDir}${name}.json`, `${JSON.stringify({ measuredAt: new Date().toISOString(), ...(result as object) }, null, 2)}\n`);
    log(`   written to bench/results/${name}.json`);
  }
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
