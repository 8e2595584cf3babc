// The loader's working form of an issue: a path as segments (so positions can be found later) and a
// severity. Converted to the public `InputIssue` at the end.

import type { InputIssue } from '../model/errors.ts';

export type Segment = string | number;

export interface Location {
  file: string;
  path: Segment[];
}

export interface Issue extends Location {
  severity: 'error' | 'warning';
  message: string;
  fix: string;
  /** Point at the key of the last segment rather than its value (unknown keys). */
  atKey?: boolean;
  /** A known position (syntax errors), used instead of looking the path up. */
  position?: Position;
  /** Other places the message refers to; `{0}`, `{1}` … in message/fix are replaced by `file:line path`. */
  related?: Location[];
}

export function error(file: string, path: Segment[], message: string, fix: string, extra: Partial<Issue> = {}): Issue {
  return { file, path, severity: 'error', message, fix, ...extra };
}

export function warning(file: string, path: Segment[], message: string, fix: string, extra: Partial<Issue> = {}): Issue {
  return { file, path, severity: 'warning', message, fix, ...extra };
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `vms[12].labels.rack`, `all.hosts.hv-01`; keys that are not plain words in brackets: `labels["a b"]`. */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export interface Position {
  line: number;
  column: number;
}

export type Resolve = (loc: Location, atKey?: boolean) => Position | undefined;

export function toInputIssue(issue: Issue, resolve: Resolve): InputIssue {
  const pos = issue.position ?? resolve(issue, issue.atKey);
  const refs = (issue.related ?? []).map((r) => {
    const p = resolve(r);
    const where = p ? `${r.file}:${p.line}` : r.file;
    const path = formatPath(r.path);
    return path ? `${where} ${path}` : where;
  });
  const fill = (text: string) => text.replace(/\{(\d+)\}/g, (m, i: string) => refs[Number(i)] ?? m);
  const out: InputIssue = { file: issue.file, path: formatPath(issue.path), message: fill(issue.message), fix: fill(issue.fix) };
  if (pos) {
    out.line = pos.line;
    out.column = pos.column;
  }
  return out;
}
