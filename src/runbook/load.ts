// The file edge of runbooks: read, parse, and turn problems into an InputError for the operator.
import { readFile } from 'node:fs/promises';
import { InputError } from '../model/errors.ts';
import type { Runbook } from './model.ts';
import { parseRunbook } from './parse.ts';

export async function loadRunbook(file: string): Promise<Runbook> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError([
      {
        file,
        path: '',
        message: code === 'ENOENT' ? 'runbook file not found' : `cannot read the runbook (${code ?? 'error'})`,
        fix: 'pass --runbook with one of runbooks/libvirt.yaml, runbooks/openstack.yaml, runbooks/proxmox.yaml, or your own file',
      },
    ]);
  }
  const result = parseRunbook(file, text);
  if (!result.ok) throw new InputError(result.error, `runbook ${file} has ${result.error.length} problem(s)`);
  return result.value;
}
