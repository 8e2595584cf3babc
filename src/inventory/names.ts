// What a name, address, label or user may look like. Host, VM, group and class names end up as arguments
// of commands on real hosts, so the allowed set is small and says so in every fix.

import { quoteName } from '../model/show-name.ts';

export const MAX_NAME = 253;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
export const NAME_RULE =
  'use only letters, digits and . _ : @ - (start with a letter or digit, at most 253 characters)';

const SHELL_META = new Set([...';|&$`\'"<>(){}[]*?!\\#~=%,+^']);

/**
 * Printable form of a value inside a message: quoted, every character outside printable ASCII escaped, so an
 * invisible or look-alike character shows (`"vm-\u0430"`, not a `vm-а` that reads as `vm-a`).
 */
export function show(value: string): string {
  return quoteName(value);
}

/** Why `value` is not a safe name, or null when it is. */
export function nameProblem(value: string): string | null {
  if (value.length > 0 && value.length <= MAX_NAME && SAFE_NAME.test(value)) return null;
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_NAME) return `is ${value.length} characters long`;
  if (value.startsWith('-')) return "starts with '-' (a command would read it as an option)";
  const bad = new Set<string>();
  for (const ch of value) {
    if (/[A-Za-z0-9._:@-]/.test(ch)) continue;
    bad.add(ch);
  }
  const named = [...bad].map(describeChar);
  if (named.length > 0) return `contains ${named.join(', ')}`;
  return 'does not start with a letter or digit';
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (ch === ' ') return 'a space';
  if (ch === '\n') return 'a newline';
  if (ch === '\t') return 'a tab';
  if (code === 0) return 'a NUL byte';
  if (code < 0x20 || code === 0x7f) return `the control character \\x${code.toString(16).padStart(2, '0')}`;
  if (/\s/u.test(ch)) return `whitespace (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  if (SHELL_META.has(ch)) return `the shell metacharacter '${ch}'`;
  const u = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  // Never printed raw: it would be invisible, or reorder the rest of the line.
  if (BIDI.test(ch)) return `a bidirectional-text control (${u})`;
  if (/\p{Cf}/u.test(ch)) return `an invisible character (${u})`;
  if (/\p{M}/u.test(ch)) return `a combining mark (${u})`;
  if (code > 0x7e) return `the non-ASCII character '${ch}' (${u})`;
  return `'${ch}'`;
}

const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
export const LABEL_KEY_RULE = 'use letters, digits and . _ / - (start with a letter or digit, at most 63 characters)';

export function labelKeyProblem(key: string): string | null {
  if (LABEL_KEY.test(key)) return null;
  if (key.length === 0) return 'is empty';
  if (key.length > 63) return `is ${key.length} characters long`;
  return nameProblem(key.replace(/\//g, '.')) ?? 'does not start with a letter or digit';
}

// Control characters would corrupt logs and terminal output; everything else in a label value is data.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
export function labelValueProblem(value: string): string | null {
  const bad = CONTROL.exec(value);
  if (bad) return `contains ${describeChar(bad[0])}`;
  if (value.length > MAX_NAME) return `is ${value.length} characters long`;
  return null;
}

const SSH_USER = /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/;
export const SSH_USER_RULE = 'use a POSIX user name: a letter or _, then letters, digits, . _ - (at most 32 characters)';
export function sshUserProblem(user: string): string | null {
  if (SSH_USER.test(user)) return null;
  if (user.length === 0) return 'is empty';
  if (user.length > 32) return `is ${user.length} characters long`;
  return nameProblem(user) ?? 'must start with a letter or _';
}

const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX16 = /^[0-9A-Fa-f]{1,4}$/;

export function isIPv4(value: string): boolean {
  return IPV4.test(value);
}

export function isIPv6(value: string): boolean {
  const halves = value.split('::');
  if (halves.length > 2) return false;
  const groups = (part: string): string[] | null => (part === '' ? [] : part.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return false;
  const all = [...head, ...tail];
  let width = all.length;
  const last = all[all.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last)) return false;
    all.pop();
    width += 1; // an embedded IPv4 address fills two groups
  }
  if (!all.every((g) => HEX16.test(g))) return false;
  return halves.length === 2 ? width <= 7 : width === 8;
}

export function isHostname(value: string): boolean {
  if (value.length === 0 || value.length > MAX_NAME) return false;
  const labels = value.split('.');
  // All-numeric dotted names are malformed IPv4 addresses, not hostnames.
  if (labels.every((l) => /^\d+$/.test(l))) return false;
  return labels.every((l) => HOST_LABEL.test(l));
}

export const ADDRESS_RULE = 'use a DNS hostname (letters, digits, - and dots) or an IPv4/IPv6 address, without port, brackets or scheme';
export function addressProblem(value: string): string | null {
  if (isIPv4(value) || isHostname(value) || (value.includes(':') && isIPv6(value))) return null;
  if (value.length === 0) return 'is empty';
  if (/^\d+(\.\d+){3}$/.test(value)) return 'is not a valid IPv4 address (each part must be 0-255)';
  if (value.includes(':') && !/[^0-9A-Fa-f:.]/.test(value)) return 'is not a valid IPv6 address';
  const why = nameProblem(value);
  if (why && !why.startsWith('is ')) return why;
  if (value.includes('_')) return "contains '_' (not allowed in hostnames)";
  if (value.includes(':')) return "contains ':' (put the SSH port under ssh.port)";
  return 'is not a valid hostname';
}
