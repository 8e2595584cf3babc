// Placeholders `{name}`, `{target.address}` or `{version|upstream}` inside argv elements. Substitution is per
// element, so a value with spaces, quotes or `;` stays one argument. Unknown placeholders are an error, never
// left as text. A filter after `|` transforms the value (FILTERS); a variable's default may name other
// variables (`daemonVersion: "{version|upstream}"`), resolved once the run's values are known (resolveVars).

import { HvrollError } from '../model/errors.ts';

// `${Name}` is left alone: it is a format of the remote tool (dpkg-query -f=${Version}), not ours.
const PLACEHOLDER = /(?<!\$)\{([A-Za-z][A-Za-z0-9_.]*)(?:\|([A-Za-z][A-Za-z0-9_-]*))?\}/g;

/**
 * The upstream part of a Debian version: no epoch (`1:`), no Debian revision (from the last `-`), no repack
 * or pre-release mark (from the first `+` or `~`): `1:9.0.0-4+deb12u2` → `9.0.0`, `9.0.0+dfsg-1` → `9.0.0`,
 * `1.1` → `1.1`. What a daemon built from that package reports as its own version.
 */
export function debianUpstream(version: string): string {
  const noEpoch = version.replace(/^\d+:/, '');
  const dash = noEpoch.lastIndexOf('-');
  const noRevision = dash > 0 ? noEpoch.slice(0, dash) : noEpoch;
  return noRevision.split(/[+~]/)[0]!;
}

/** Filters a placeholder may name after `|`. Keep this list short: each one is documented in runbooks/README.md. */
export const FILTERS: Readonly<Record<string, (value: string) => string>> = {
  upstream: debianUpstream,
};

export function placeholders(argv: readonly string[]): string[] {
  const names = new Set<string>();
  for (const a of argv) for (const m of a.matchAll(PLACEHOLDER)) names.add(m[1]!);
  return [...names];
}

/** Filter names used in `argv` (to refuse an unknown one when the runbook is read). */
export function filtersUsed(argv: readonly string[]): string[] {
  const names = new Set<string>();
  for (const a of argv) for (const m of a.matchAll(PLACEHOLDER)) if (m[2] !== undefined) names.add(m[2]);
  return [...names];
}

/**
 * Substitutes every placeholder of every element. `escape` is applied to each substituted value (a regular
 * expression's placeholders are literal text: expect.ts passes a regex escape).
 */
export function render(argv: readonly string[], values: Readonly<Record<string, string | undefined>>, where: string, escape: (value: string) => string = (v) => v): string[] {
  return argv.map((arg) =>
    arg.replace(PLACEHOLDER, (_, name: string, filter: string | undefined) => {
      const v = values[name];
      if (v === undefined) throw new HvrollError('invalid-input', `${where}: placeholder {${name}} has no value`, { details: { placeholder: name } });
      if (v.includes('\0')) throw new HvrollError('invalid-input', `${where}: value of {${name}} contains a NUL byte`);
      if (filter === undefined) return escape(v);
      const f = FILTERS[filter];
      if (!f) throw new HvrollError('invalid-input', `${where}: unknown filter |${filter} in {${name}|${filter}}`, { details: { filter } });
      return escape(f(v));
    }),
  );
}

/** `text` with every character a regular expression treats specially escaped. */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/**
 * The run's variables with every default that names other variables resolved against them. A value given
 * with `--set` is taken as written (only an unchanged default is a template); parse.ts makes sure a default
 * names only variables whose own defaults are plain, so one pass is enough.
 */
export function resolveVars(defaults: Readonly<Record<string, string>>, vars: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...vars };
  for (const [name, value] of Object.entries(vars)) {
    if (value !== defaults[name] || placeholders([value]).length === 0) continue;
    out[name] = render([value], vars, `vars.${name}`)[0]!;
  }
  return out;
}

/** A command template written as one string is split on whitespace before substitution. */
export function splitTemplate(command: string): string[] {
  return command.trim().split(/\s+/).filter(Boolean);
}
