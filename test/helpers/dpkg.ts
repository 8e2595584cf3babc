// What dpkg says about one package in a given state, for the in-process hosts and the runbook tests:
// `dpkg-query -W -f=<format> <package>` and `dpkg --audit`. The state is dpkg's three-letter abbreviation
// (`${db:Status-Abbrev}`: desired action, status, error flag), e.g. "ii " installed and configured,
// "iF " half-configured after a failed postinst, "iHR" half-installed and needing a reinstall.

export interface DpkgPackage {
  name: string;
  /** `${db:Status-Abbrev}`, three characters. */
  status: string;
  version: string;
}

/** Every state the runbooks must tell from "installed and configured" (name → abbreviation). */
export const DPKG_STATES: Readonly<Record<string, string>> = {
  installed: 'ii ',
  'half-installed': 'iH ',
  unpacked: 'iU ',
  'half-configured': 'iF ',
  'triggers-awaited': 'iW ',
  'triggers-pending': 'it ',
  'config-files': 'rc ',
  'not-installed': 'un ',
  'reinst-required': 'iUR',
  'installed, reinst-required': 'iiR',
  'on hold, installed': 'hi ',
};

/** `dpkg-query -W -f=<format> <name>`: the format's ${Version} and ${db:Status-Abbrev} filled in. */
export function dpkgQuery(pkg: DpkgPackage, format: string): { stdout: string; stderr: string; code: number } {
  if (pkg.status[1] === 'n' && pkg.status[0] === 'u' && pkg.version === '') {
    return { stdout: '', stderr: `dpkg-query: no packages found matching ${pkg.name}\n`, code: 1 };
  }
  const version = pkg.status[1] === 'n' ? '' : pkg.version;
  return { stdout: format.replaceAll('${Version}', version).replaceAll('${db:Status-Abbrev}', pkg.status).replaceAll('\\n', '\n'), stderr: '', code: 0 };
}

const AUDIT: Record<string, string> = {
  H: 'The following packages are only half installed, due to problems during\ninstallation.  The installation can probably be completed by retrying it;\nthe packages can be removed using dselect or dpkg --remove:',
  U: 'The following packages have been unpacked but not yet configured.\nThey must be configured using dpkg --configure or the configure\nmenu option in dselect for them to work:',
  F: 'The following packages are only half configured, probably due to problems\nconfiguring them the first time.  The configuration should be retried using\ndpkg --configure <package> or the configure menu option in dselect:',
  W: 'The following packages are awaiting processing of triggers that they\nhave activated in other packages.  This processing can be requested using\ndselect or dpkg --configure --pending (or dpkg --triggers-only):',
  t: 'The following packages have been triggered, but the trigger processing\nhas not yet been done.  Trigger processing can be requested using\ndselect or dpkg --configure --pending (or dpkg --triggers-only):',
};

/** `dpkg --audit`: nothing for a sound database; else what is wrong (exit 0 as older dpkg does: the text is the answer). */
export function dpkgAudit(pkgs: readonly DpkgPackage[]): { stdout: string; stderr: string; code: number } {
  const parts: string[] = [];
  for (const p of pkgs) {
    if (p.status[2] === 'R') parts.push(`The following packages are in a mess due to serious problems during\ninstallation.  They must be reinstalled for them (and any packages\nthat depend on them) to function properly:\n ${p.name} the package\n`);
    const why = AUDIT[p.status[1]!];
    if (why) parts.push(`${why}\n ${p.name} the package\n`);
  }
  return { stdout: parts.join('\n'), stderr: '', code: 0 };
}
