// Hand-written acceptance of well-formed hosts and VMs. zod costs ~2 µs per VM, which at 400,000 VMs is
// most of the time budget; entries that pass here are exactly those the zod schema accepts (test/inventory
// checks the two agree), and anything else goes through zod for its precise error messages. VMs are
// completed in place rather than copied: the input was just parsed and is ours, and 400,000 copies cost.

import type { Host, Labels, Vm } from '../model/inventory.ts';
import { addressProblem, labelKeyProblem, labelValueProblem, nameProblem, sshUserProblem } from './names.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

// Label keys and values repeat across a fleet (`rack: r12` on thousands of hosts): remember the good ones.
const goodKeys = new Set<string>();
const goodValues = new Set<string>();
const MEMO_LIMIT = 100_000;

/** Labels with every value text; numbers and booleans are converted in place (the object is freshly parsed). */
function fastLabels(v: unknown): Labels | undefined {
  if (!isObj(v)) return undefined;
  let converted = false;
  for (const key in v) {
    if (!goodKeys.has(key)) {
      if (labelKeyProblem(key) !== null) return undefined;
      if (goodKeys.size < MEMO_LIMIT) goodKeys.add(key);
    }
    const raw = v[key];
    let s: string;
    if (typeof raw === 'string') s = raw;
    else if (typeof raw === 'boolean' || (typeof raw === 'number' && Number.isFinite(raw))) {
      s = String(raw);
      converted = true;
    } else return undefined;
    if (!goodValues.has(s)) {
      if (labelValueProblem(s) !== null) return undefined;
      if (goodValues.size < MEMO_LIMIT) goodValues.add(s);
    }
  }
  if (converted) for (const key in v) v[key] = String(v[key]);
  return v as Labels;
}

const HOST_KEYS = new Set(['name', 'address', 'ssh', 'labels', 'capacity']);
const VM_KEYS = new Set(['name', 'host', 'vcpus', 'memoryMiB', 'labels', 'migratable']);

function onlyKeys(o: Obj, allowed: Set<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

export function fastHost(v: unknown): Host | undefined {
  if (!isObj(v) || !onlyKeys(v, HOST_KEYS)) return undefined;
  const { name, address, ssh, labels, capacity } = v;
  if (typeof name !== 'string' || nameProblem(name) !== null) return undefined;
  if (typeof address !== 'string' || addressProblem(address) !== null) return undefined;
  if (!isObj(capacity) || !posInt(capacity.vcpus) || !posInt(capacity.memoryMiB)) return undefined;
  for (const k in capacity) if (k !== 'vcpus' && k !== 'memoryMiB') return undefined;
  const host: Host = { name, address, labels: {}, capacity: { vcpus: capacity.vcpus, memoryMiB: capacity.memoryMiB } };
  if (labels !== undefined) {
    const l = fastLabels(labels);
    if (!l) return undefined;
    host.labels = { ...l };
  }
  if (ssh !== undefined) {
    if (!isObj(ssh)) return undefined;
    const out: { user?: string; port?: number } = {};
    for (const k in ssh) {
      const x = ssh[k];
      if (k === 'user' && typeof x === 'string' && sshUserProblem(x) === null) out.user = x;
      else if (k === 'port' && posInt(x) && x <= 65535) out.port = x;
      else if (x !== undefined || (k !== 'user' && k !== 'port')) return undefined;
    }
    host.ssh = out;
  }
  return host;
}

/** The VM itself, completed in place (defaults, text labels), when it is valid; else undefined. */
export function fastVm(v: unknown): Vm | undefined {
  if (!isObj(v) || !onlyKeys(v, VM_KEYS)) return undefined;
  const { name, host, vcpus, memoryMiB, labels, migratable } = v;
  if (typeof name !== 'string' || nameProblem(name) !== null) return undefined;
  if (typeof host !== 'string' || !posInt(vcpus) || !posInt(memoryMiB)) return undefined;
  if (migratable !== undefined && typeof migratable !== 'boolean') return undefined;
  if (labels !== undefined && !fastLabels(labels)) return undefined;
  if (labels === undefined) v.labels = {};
  if (migratable === undefined) v.migratable = true;
  return v as unknown as Vm;
}
