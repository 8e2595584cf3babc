// What hvroll takes from its environment, read in one place: the operator's name, the home directory, where
// campaigns are kept. Every function takes the environment it reads (the CLI passes its own), so tests can
// give another one.

import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

/** Who is acting, when --operator does not say: HVROLL_OPERATOR, the user behind sudo, the login name. */
export function defaultOperator(env: Env): string {
  return env.HVROLL_OPERATOR || env.SUDO_USER || env.USER || userInfo().username;
}

export function homeDir(env: Env): string {
  return env.HOME || homedir();
}

/** `$XDG_DATA_HOME/hvroll/campaigns`, else `~/.local/share/hvroll/campaigns` (XDG says: ignore a relative XDG_DATA_HOME). */
export function defaultStateRoot(env: Env): string {
  const xdg = env.XDG_DATA_HOME;
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(homeDir(env), '.local', 'share');
  return join(base, 'hvroll', 'campaigns');
}
