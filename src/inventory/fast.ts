// Hand-written acceptance of well-formed hosts and VMs. zod costs ~2 µs per VM, which at 400,000 VMs is
// most of the time budget; entries that pass here are exactly those the zod schema accepts (test/inventory
// checks the two agree), and anything else goes through zod for its precise error messages.

import type { Host, Labels, Vm } from '../model/inventory.ts';
import { addressProblem, labelKeyProblem, labelValueProblem, nameProblem, sshUserProblem } from './names.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

// Label keys and values repeat across a fleet (`rack: r12` on thousands of hosts): remember the good ones.
const goodKeys = new Set<string>();
const goodValues = new Set<string>();
const MEMO_LIMIT = 100_000;

function fastLabels(v: unknown): Labels | undefined {
  if (!isObj(v)) return undefined;
  const out: Labels = {};
  for (const key in v) {
    if (!goodKeys.has(key)) {
      if (labelKeyProblem(key) !== null) return undefined;
      if (goodKeys.size < MEMO_LIMIT) goodKeys.add(key);
    }
    const raw = v[key];
    let s: string;
    if (typeof raw === 'string') s = raw;
    else if (typeof raw === 'boolean' || (typeof raw === 'number' && Number.isFinite(raw))) s = String(raw);
    else return undefined;
    if (!goodValues.has(s)) {
      if (labelValueProblem(s) !== null) return undefined;
      if (goodValues.size < MEMO_LIMIT) goodValues.add(s);
    }
    out[key] = s;
  }
  return out;
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
    host.labels = l;
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

export function fastVm(v: unknown): Vm | undefined {
  if (!isObj(v) || !onlyKeys(v, VM_KEYS)) return undefined;
  const { name, host, vcpus, memoryMiB, labels, migratable } = v;
  if (typeof name !== 'string' || nameProblem(name) !== null) return undefined;
  if (typeof host !== 'string' || !posInt(vcpus) || !posInt(memoryMiB)) return undefined;
  if (migratable !== undefined && typeof migratable !== 'boolean') return undefined;
  let l: Labels = {};
  if (labels !== undefined) {
    const parsed = fastLabels(labels);
    if (!parsed) return undefined;
    l = parsed;
  }
  return { name, host, vcpus, memoryMiB, labels: l, migratable: migratable ?? true };
}
