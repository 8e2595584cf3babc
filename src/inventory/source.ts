// One input text → its value and a way to find positions in it. `.json` goes through JSON.parse (fast
// path for machine-generated fleets). YAML is read with js-yaml (YAML 1.2 core schema, ~10× faster on large
// fleets); the `yaml` Document, which knows line numbers, is built only when an issue needs a position, or
// when js-yaml rejects the text (its located syntax errors are better).

import { CORE_SCHEMA, load } from 'js-yaml';
import { LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { error } from './issue.ts';
import type { Issue, Position, Segment } from './issue.ts';
import { LineIndex, jsonPositions, yamlPosition } from './positions.ts';

export interface Source {
  file: string;
  value: unknown;
  /** Positions of many paths, computed together (one pass over a JSON text). */
  positions(paths: readonly (readonly Segment[])[]): (path: readonly Segment[], atKey?: boolean) => Position | undefined;
}

export type Parsed = { ok: true; source: Source } | { ok: false; issues: Issue[] };

const MAX_LOCATED_YAML = 16 * 1024 * 1024;

export const isJsonFile = (file: string): boolean => /\.json$/i.test(file);

export function parseSource(file: string, text: string): Parsed {
  return isJsonFile(file) ? parseJson(file, text) : parseYaml(file, text);
}

function parseJson(file: string, text: string): Parsed {
  try {
    const value: unknown = JSON.parse(text);
    return { ok: true, source: { file, value, positions: (paths) => jsonPositions(text, paths) } };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // V8 says "… in JSON at position N" (newer versions add "(line L column C)").
    const at = /position (\d+)/.exec(message);
    const pos = at ? new LineIndex(text).at(Number(at[1])) : undefined;
    const issue = error(file, [], `JSON syntax error: ${message.replace(/^JSON\.parse: /, '')}`, 'correct the JSON at this position (a missing comma or quote, or a trailing comma, is the usual cause)');
    return { ok: false, issues: [pos ? { ...issue, position: pos } : issue] };
  }
}

function parseYaml(file: string, text: string): Parsed {
  let value: unknown;
  try {
    value = load(text, { schema: CORE_SCHEMA, filename: file, json: false });
  } catch {
    return parseYamlDocument(file, text);
  }
  // The `yaml` Document costs ~10 KB per VM: past this size, issues name their path but not their line.
  if (text.length > MAX_LOCATED_YAML) return { ok: true, source: { file, value, positions: () => () => undefined } };
  let located: { doc: Document; lc: LineCounter } | undefined;
  const locate = () => {
    if (!located) {
      const lc = new LineCounter();
      located = { doc: parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true }), lc };
    }
    return located;
  };
  return { ok: true, source: { file, value, positions: () => (path, atKey) => yamlPosition(locate().doc, locate().lc, path, atKey) } };
}

function parseYamlDocument(file: string, text: string): Parsed {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => {
      const pos = lc.linePos(e.pos[0]);
      const fix =
        e.code === 'DUPLICATE_KEY'
          ? 'a key may appear once per mapping: remove or rename the second one'
          : e.code === 'BAD_INDENT' || e.code === 'MISSING_CHAR'
            ? 'check the indentation and that every key ends with ":" at this line'
            : 'correct the YAML syntax at this line (indentation, a missing ":" or an unclosed quote are the usual causes)';
      return { ...error(file, [], `YAML syntax error: ${e.message.split('\n')[0]!}`, fix), position: { line: pos.line, column: pos.col } };
    });
    return { ok: false, issues };
  }
  const value: unknown = doc.toJS({ maxAliasCount: 10_000 });
  return { ok: true, source: { file, value, positions: () => (path, atKey) => yamlPosition(doc, lc, path, atKey) } };
}
