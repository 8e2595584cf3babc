// Every dpkg state a package can be left in, against every check, confirm and verify probe of the shipped
// runbooks that asks dpkg: only "ii " (installed, configured, no error flag) at the target version passes.
// `${Version}` alone prints the new version for a half-configured package too (issue 12, item 4).
import test from 'ava';
import { unmet } from '../../src/runbook/expect.ts';
import { loadRunbook } from '../../src/runbook/load.ts';
import type { Check } from '../../src/runbook/model.ts';
import { render, resolveVars } from '../../src/runbook/template.ts';
import { DPKG_STATES, dpkgAudit, dpkgQuery, type DpkgPackage } from '../helpers/dpkg.ts';

const TARGET = '1:9.0.0-4+deb12u2';

/** What a host whose package is `pkg` answers to a dpkg probe (the runbook's argv, placeholders filled in). */
function answer(argv: string[], pkg: DpkgPackage): { exitCode: number; stdout: string } {
  if (argv[0] === 'dpkg-query') {
    const r = dpkgQuery(pkg, argv[2]!.slice('-f='.length));
    return { exitCode: r.code, stdout: r.stdout };
  }
  const r = dpkgAudit([pkg]);
  return { exitCode: r.code, stdout: r.stdout };
}

const asksDpkg = (c: Check) => c.command.argv[0] === 'dpkg-query' || (c.command.argv[0] === 'dpkg' && c.command.argv[1] === '--audit');

for (const platform of ['libvirt', 'openstack', 'proxmox']) {
  test(`${platform}: only an installed, configured package at the target version passes upgrade's check and confirm and verify's dpkg probes`, async (t) => {
    const rb = await loadRunbook(`runbooks/${platform}.yaml`);
    const values: Record<string, string> = { ...resolveVars(rb.vars, { ...rb.vars, version: TARGET }), host: 'hv-1', campaign: 'c1', group: 'g1' };
    const file = rb.file;
    const probes: [string, Check[]][] = [
      ['upgrade.check', rb.steps.upgrade!.check.filter(asksDpkg)],
      ['upgrade.confirm', rb.steps.upgrade!.confirm.filter(asksDpkg)],
      ['verify.confirm', rb.steps.verify!.confirm.filter(asksDpkg)],
    ];
    for (const [where, checks] of probes) t.true(checks.length > 0, `${where} asks dpkg`);
    t.true(probes[1]![1].some((c) => c.command.argv.join(' ') === 'dpkg --audit'), 'the confirm also asks for half-done packages anywhere');
    const passes = (pkg: DpkgPackage, checks: Check[]) => checks.every((c) => unmet(c.expect, answer(render(c.command.argv, values, file), pkg), values, file) === null);
    for (const [state, status] of Object.entries(DPKG_STATES)) {
      const pkg: DpkgPackage = { name: values.package!, status, version: state === 'not-installed' ? '' : TARGET };
      for (const [probe, checks] of probes) {
        // `dpkg --audit` alone says nothing about the package being there: the check is the dpkg-query one.
        if (probe === 'upgrade.check' || checks.some((c) => c.command.argv[0] === 'dpkg-query')) {
          t.is(passes(pkg, checks), status === 'ii ', `${platform} ${probe}: ${state} (${JSON.stringify(status)})`);
        }
      }
    }
    const older: DpkgPackage = { name: values.package!, status: 'ii ', version: '1:8.0.0-1' };
    for (const [probe, checks] of probes) if (checks.some((c) => c.command.argv[0] === 'dpkg-query')) t.false(passes(older, checks), `${probe}: an older version, configured`);
  });
}

test('dpkg --audit in the confirm fails for every state dpkg reports as unfinished, and passes installed, config-files and not-installed', async (t) => {
  const rb = await loadRunbook('runbooks/libvirt.yaml');
  const audit = rb.steps.upgrade!.confirm.find((c) => c.command.argv.join(' ') === 'dpkg --audit')!;
  const clean = new Set(['installed', 'config-files', 'not-installed', 'on hold, installed']);
  for (const [state, status] of Object.entries(DPKG_STATES)) {
    const r = dpkgAudit([{ name: 'p', status, version: '1' }]);
    t.is(unmet(audit.expect, { exitCode: r.code, stdout: r.stdout }, {}, 'x') === null, clean.has(state), state);
  }
});
