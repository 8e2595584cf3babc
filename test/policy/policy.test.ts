// The policy's parts on their own: what is out of service and who holds it, the tier barriers, and the order
// in which the rules are asked (the first that holds is the reason a group waits).
import test from 'ava';
import { admissionWait, budgetHeadroom, OutOfService, TierBarrier, type AdmissionState, type Candidate } from '../../src/policy/index.ts';

const host = (h: string, domain: string, memoryMiB = 100, vcpus = 10) => ({ host: h, domain, memoryMiB, vcpus });

test('a group holding hosts counts once for its class and once per domain, until its last host is back; capacity counts per host', (t) => {
  const out = new OutOfService();
  out.hold('g1', 'db', [host('a', 'az1'), host('b', 'az1'), host('c', 'az2', 50, 5)]);
  t.is(out.groups, 1);
  t.is(out.inClass('db'), 1);
  t.is(out.inDomain('az1'), 1);
  t.is(out.inDomain('az2'), 1);
  t.deepEqual(out.capacityOut('az1'), { memoryMiB: 200, vcpus: 20 });
  t.true(out.back('c'));
  t.is(out.inDomain('az2'), 0, 'no host of g1 left in az2');
  t.deepEqual(out.capacityOut('az2'), { memoryMiB: 0, vcpus: 0 });
  t.is(out.groups, 1, 'still holds a and b');
  t.true(out.back('a'));
  t.deepEqual(out.capacityOut('az1'), { memoryMiB: 100, vcpus: 10 });
  t.true(out.back('b'));
  t.is(out.groups, 0);
  t.is(out.inClass('db'), 0);
  t.false(out.back('b'), 'already back');
  t.is(out.hostCount, 0);
});

test('hold replaces what a holder held (a running group that ends with some hosts left out); a host has one holder', (t) => {
  const out = new OutOfService();
  out.hold('g1', 'web', [host('a', 'az1'), host('b', 'az1')]);
  out.hold('g1', 'web', [host('b', 'az1')]);
  t.deepEqual(out.hostsOf('g1'), ['b']);
  t.deepEqual(out.capacityOut('az1'), { memoryMiB: 100, vcpus: 10 });
  t.is(out.holderOfHost('b'), 'g1');
  t.throws(() => out.hold('g2', 'web', [host('b', 'az1')]), { message: /held by g1/ });
  out.hold('g1', 'web', []);
  t.false(out.holds('g1'));
  t.is(out.groups, 0);
});

test('tier barriers: canaries finish before normal groups, normal before last; spare groups are no barrier', (t) => {
  const tiers = new TierBarrier();
  for (const tier of ['spare', 'first', 'normal', 'last'] as const) tiers.add(tier);
  t.is(tiers.closedBy('spare'), null);
  t.is(tiers.closedBy('first'), null, 'the spare group still runs: no barrier');
  t.is(tiers.closedBy('normal'), 'first');
  t.is(tiers.closedBy('last'), 'first', 'the earliest barrier is named');
  tiers.finish('first');
  t.is(tiers.closedBy('normal'), null);
  t.is(tiers.closedBy('last'), 'normal');
  tiers.finish('normal');
  t.is(tiers.closedBy('last'), null);
});

function state(out: OutOfService, o: Partial<AdmissionState> & { groups?: number } = {}): AdmissionState {
  return {
    limits: { groups: o.groups ?? 4, classMax: (k) => (k === 'db' ? 1 : undefined), groupsPerDomain: 1 },
    out,
    tiers: new TierBarrier(),
    isDone: () => true,
    domainName: (d) => `domain ${String(d)}`,
    dependencyWhy: (g, d) => `${g.name} waits for ${String(d)}`,
    headroom: null,
    ...o,
  };
}
const candidate = (o: Partial<Candidate> = {}): Candidate => ({ name: 'x', tier: 'normal', klass: 'web', className: 'web', domains: ['az1'], waitsFor: [], ...o });

test('the rules are asked in order, and say which stop the scan: concurrency, order and class do; domain, deps and headroom do not', (t) => {
  const out = new OutOfService();
  out.hold('held', 'db', [host('h', 'az1')]);
  const full = admissionWait(candidate(), state(out, { groups: 1 }));
  t.deepEqual(full, { kind: 'concurrency', why: 'concurrency.groups = 1', stop: true });
  const tiers = new TierBarrier();
  tiers.add('first');
  t.deepEqual(admissionWait(candidate({ klass: 'db', className: 'db' }), state(out, { tiers })), { kind: 'order', why: 'order: first groups finish before normal groups start', stop: true });
  t.deepEqual(admissionWait(candidate({ klass: 'db', className: 'db' }), state(out)), { kind: 'class', why: 'class db allows 1 group(s) at once', stop: true }, 'a failed db group that holds a host keeps the class slot');
  t.deepEqual(admissionWait(candidate(), state(out)), { kind: 'domain', why: 'concurrency.groupsPerDomain = 1 (domain az1)', stop: false });
  t.deepEqual(admissionWait(candidate({ domains: ['az2'], waitsFor: ['a'] }), state(out, { isDone: () => false })), { kind: 'deps', why: 'x waits for a', stop: false });
  const room = budgetHeadroom({ az2: { memoryMiB: 150, vcpus: 100 } }, () => ({ memoryMiB: 100, vcpus: 10 }));
  t.is(admissionWait(candidate({ domains: ['az2'] }), state(out, { headroom: room })), null, 'alone in az2: may pass its budget');
  out.hold('other', 'web', [host('o', 'az2')]);
  const wait = admissionWait(candidate({ domains: ['az2'] }), state(out, { headroom: room, limits: { groups: 4, classMax: () => undefined, groupsPerDomain: null } }));
  t.is(wait?.kind, 'headroom');
  t.regex(wait!.why, /headroom of az2: 100 MiB \/ 10 vCPUs already out of service, 100 MiB \/ 10 more would pass its maintenance budget \(150 MiB/);
  t.false(wait!.stop);
});
