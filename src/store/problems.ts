// Store errors an operator can act on: which file, what is wrong, what to do. All are HvrollError('store').

import { HvrollError } from '../model/errors.ts';

const KEEP = 'Nothing was changed on disk.';

export interface FileProblem {
  file: string;
  problem: string;
  /** Byte offset and 1-based line of the damage, when known. */
  offset?: number;
  line?: number;
}

/** A file we cannot trust. We never rewrite it: the operator decides what to do with the evidence. */
export function corruptFile(p: FileProblem, fix?: string): HvrollError {
  const where = p.line === undefined ? '' : ` at line ${p.line}${p.offset === undefined ? '' : ` (byte ${p.offset})`}`;
  const todo =
    fix ??
    `Restore ${p.file} from a backup of the campaign directory, or move the directory aside and start a new campaign (every step re-checks its host before acting, so nothing runs twice blindly).`;
  return new HvrollError('store', `campaign store file ${p.file} is damaged${where}: ${p.problem}. ${KEEP} ${todo}`, {
    details: { ...p, fix: todo },
  });
}

export function missingStore(dir: string, missing: string[]): HvrollError {
  const all = missing.length >= 4;
  const message = all
    ? `no campaign store at ${dir}. A store is made only by \`hvroll run\` (create); it is never recreated on its own, so a lost store cannot pass for a new campaign. Check --state / the campaign id, or restore the directory from a backup.`
    : `campaign store at ${dir} is incomplete: missing ${missing.join(', ')}. ${KEEP} Restore the missing file(s) from a backup; without them the campaign's history cannot be trusted.`;
  return new HvrollError('store', message, { details: { dir, missing } });
}

export function storeError(message: string, details?: unknown, cause?: unknown): HvrollError {
  return new HvrollError('store', message, { details, cause });
}

/** Describes a JSON.parse failure without echoing a huge input. */
export function parseProblem(e: unknown): string {
  return `invalid JSON (${e instanceof Error ? e.message.slice(0, 200) : String(e)})`;
}

export function nulProblem(bytes: Uint8Array): string | undefined {
  const at = bytes.indexOf(0);
  if (at < 0) return undefined;
  let n = 0;
  for (let i = at; i < bytes.length && bytes[i] === 0; i++) n++;
  return `contains NUL bytes (${n} zero byte${n === 1 ? '' : 's'} from byte ${at}: typically a crash on a filesystem that lost unsynced data, or disk damage)`;
}

/** Only on the failure path: tells "not JSON at all" apart from "JSON whose checksum does not match". */
export function jsonProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    return parseProblem(e);
  }
}
