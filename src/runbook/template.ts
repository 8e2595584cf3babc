// Placeholders `{name}` or `{target.address}` inside argv elements. Substitution is per element, so a value
// with spaces, quotes or `;` stays one argument. Unknown placeholders are an error, never left as text.

import { HvrollError } from '../model/errors.ts';

// `${Name}` is left alone: it is a format of the remote tool (dpkg-query -f=${Version}), not ours.
const PLACEHOLDER = /(?<!\$)\{([A-Za-z][A-Za-z0-9_.]*)\}/g;

export function placeholders(argv: readonly string[]): string[] {
  const names = new Set<string>();
  for (const a of argv) for (const m of a.matchAll(PLACEHOLDER)) names.add(m[1]!);
  return [...names];
}

export function render(argv: readonly string[], values: Readonly<Record<string, string | undefined>>, where: string): string[] {
  return argv.map((arg) =>
    arg.replace(PLACEHOLDER, (_, name: string) => {
      const v = values[name];
      if (v === undefined) throw new HvrollError('invalid-input', `${where}: placeholder {${name}} has no value`, { details: { placeholder: name } });
      if (v.includes('\0')) throw new HvrollError('invalid-input', `${where}: value of {${name}} contains a NUL byte`);
      return v;
    }),
  );
}

/** A command template written as one string is split on whitespace before substitution. */
export function splitTemplate(command: string): string[] {
  return command.trim().split(/\s+/).filter(Boolean);
}
