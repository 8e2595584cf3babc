// Test hook for the fault matrix: `HVROLL_CRASH_AT=<kind>:<n>` makes this process kill itself with SIGKILL at
// the n-th checkpoint of that kind, right after the checkpoint became durable. Kinds: `snapshot` (a step
// boundary), `intent` (just before a remote command), `outcome` (just after its outcome is journalled),
// `before-effect` (a command that changes a host is journalled, not sent) and `after-effect` (it has run, its
// outcome is not journalled yet), `created` (a new campaign's store exists, nothing else is recorded yet),
// `any` (snapshot, intent, outcome).
// Unset: does nothing. The engine is handed it (EngineDeps.checkpoint); it never reads the environment.

import type { CheckpointKind } from '../engine/deps.ts';

const spec = /^(snapshot|intent|outcome|before-effect|after-effect|created|any):(\d+)$/.exec(process.env.HVROLL_CRASH_AT ?? '');
const counts = new Map<string, number>();

export function crashPoint(kind: CheckpointKind): void {
  if (!spec) return;
  const [, want, n] = spec;
  if (want !== kind && (want !== 'any' || kind.endsWith('-effect') || kind === 'created')) return;
  const count = (counts.get(want!) ?? 0) + 1;
  counts.set(want!, count);
  if (count === Number(n)) process.kill(process.pid, 'SIGKILL');
}
