// The simulated libvirt host prints what virsh prints: `virsh list --name` is one name per line, exactly as
// defined (blanks and all), then an empty line; shutdown and start change what domstate says.
import test from 'ava';
import { LibvirtCommands } from '../../src/sim/libvirt-commands.ts';
import { SimFleet } from '../../src/sim/sim-fleet.ts';
import type { InvariantChecker } from '../../src/sim/invariants.ts';
import type { SimTiming } from '../../src/sim/timing.ts';
import { host, inventory, vm } from '../planner/fixtures.ts';

function sim(names: string[]): { commands: LibvirtCommands; fleet: SimFleet; run: (argv: string[]) => { stdout: string; code: number } } {
  const fleet = new SimFleet(inventory([host('hv-1')], names.map((n) => vm(n, 'hv-1'))), {} as InvariantChecker);
  const commands = new LibvirtCommands(fleet, {} as SimTiming, { package: 'p', maintenanceFile: '/m' }, () => {}, () => 0);
  const run = (argv: string[]) => {
    const out = commands.start(fleet.hosts.get('hv-1')!, argv).finish();
    return { stdout: out.stdout, code: out.code };
  };
  return { commands, fleet, run };
}

test('virsh list --name prints every name as-is, one per line, then an empty line', (t) => {
  const names = ['vm-2', 'vm-2 ', ' vm-3', 'vm-\u00a0', 'v\u043c-2'];
  const { run } = sim(names);
  t.is(run(['virsh', 'list', '--all', '--name']).stdout, `${[...names].sort().map((n) => `${n}\n`).join('')}\n`);
  t.is(run(['virsh', 'list', '--name']).stdout, `${[...names].sort().map((n) => `${n}\n`).join('')}\n`);
});

test('shutdown and start: domstate follows, list --name shows running domains only, --all shows all', (t) => {
  const { run } = sim(['gpu-1', 'vm-1']);
  t.is(run(['virsh', 'shutdown', 'gpu-1']).code, 0);
  t.is(run(['virsh', 'domstate', 'gpu-1']).stdout, 'shut off\n\n');
  t.is(run(['virsh', 'shutdown', 'gpu-1']).code, 1, 'not running any more');
  t.is(run(['virsh', 'list', '--name']).stdout, 'vm-1\n\n');
  t.is(run(['virsh', 'list', '--all', '--name']).stdout, 'gpu-1\nvm-1\n\n');
  t.is(run(['virsh', 'start', 'gpu-1']).code, 0);
  t.is(run(['virsh', 'domstate', 'gpu-1']).stdout, 'running\n\n');
  t.is(run(['virsh', 'start', 'gpu-1']).code, 1, 'already active');
});
