// The I/O edge: reads inventory files and directories, then hands the texts to the pure parser.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InputIssue } from '../model/errors.ts';
import { InputError } from '../model/errors.ts';
import { parseInventory } from './parse.ts';
import type { LoadedInventory, SourceText } from './parse.ts';

export type { LoadedInventory } from './parse.ts';

const INVENTORY_FILE = /\.(ya?ml|json)$/i;

/** Read `paths` (files, or directories of *.yaml|*.yml|*.json merged in name order); throws InputError listing every problem. */
export async function loadInventory(paths: string[], options: { ansible?: string } = {}): Promise<LoadedInventory> {
  const problems: InputIssue[] = [];
  const docs: SourceText[] = [];
  if (paths.length === 0 && !options.ansible) {
    throw new InputError([{ file: '', path: '', message: 'no inventory given', fix: 'pass an inventory file or directory' }]);
  }
  for (const path of paths) {
    const files = await filesOf(path, problems);
    for (const file of files) {
      const text = await readText(file, problems);
      if (text !== undefined) docs.push({ file, text });
    }
  }
  let ansible: SourceText | undefined;
  if (options.ansible) {
    const text = await readText(options.ansible, problems);
    if (text !== undefined) ansible = { file: options.ansible, text };
  }
  // A file that could not be read would make the rest look wrong (its hosts "unknown"): report that alone.
  if (problems.length > 0) throw new InputError(problems);
  const result = parseInventory(docs, ansible);
  if (!result.ok) throw new InputError(result.error);
  return result.value;
}

async function filesOf(path: string, problems: InputIssue[]): Promise<string[]> {
  try {
    if (!(await stat(path)).isDirectory()) return [path];
    const names = (await readdir(path)).filter((n) => INVENTORY_FILE.test(n) && !n.startsWith('.'));
    // Code-point order, not locale order: the merge order must not depend on the operator's machine.
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (names.length === 0) {
      problems.push({ file: path, path: '', message: 'the directory holds no inventory files', fix: 'put *.yaml, *.yml or *.json files in it, or pass the file itself' });
    }
    return names.map((n) => join(path, n));
  } catch (e) {
    problems.push(unreadable(path, e));
    return [];
  }
}

async function readText(file: string, problems: InputIssue[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    problems.push(unreadable(file, e));
    return undefined;
  }
}

function unreadable(file: string, e: unknown): InputIssue {
  const code = (e as { code?: string }).code;
  const message = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : `cannot read it (${code ?? String(e)})`;
  const fix = code === 'ENOENT' ? 'check the path' : code === 'EACCES' ? 'make the file readable for this user' : 'check that the path is a readable file or directory';
  return { file, path: '', message, fix };
}
