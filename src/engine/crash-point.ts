// Test hook for the fault matrix: `HVROLL_CRASH_AT=<kind>:<n>` makes this process kill itself with SIGKILL at
// the n-th checkpoint of that kind, right after the checkpoint became durable. Kinds: `snapshot` (a step
// boundary), `intent` (just before a side effect), `outcome` (just after it), `any`. Unset: does nothing.

const spec = /^(snapshot|intent|outcome|any):(\d+)$/.exec(process.env.HVROLL_CRASH_AT ?? '');
const counts = new Map<string, number>();

export type CheckpointKind = 'snapshot' | 'intent' | 'outcome';

export function crashPoint(kind: CheckpointKind): void {
  if (!spec) return;
  const [, want, n] = spec;
  if (want !== 'any' && want !== kind) return;
  const count = (counts.get(want!) ?? 0) + 1;
  counts.set(want!, count);
  if (count === Number(n)) process.kill(process.pid, 'SIGKILL');
}
