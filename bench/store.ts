// Campaign store cost per checkpoint at 1k vs 20k groups. A checkpoint = one awaited saveGroupSnapshot
// (append + fdatasync, then the durability marker's pwrite + fdatasync). Also reports what is paid rarely:
// compaction (whole snapshot) and open (replay), and how much of a checkpoint the marker takes.
// `npm run bench -- --only store`.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CampaignStore, nodeFs, type StoreFs } from '../src/store/index.ts';
import type { PlanFile } from '../src/model/plan.ts';

const CHECKPOINTS = 1000;

function countingFs(): { fs: StoreFs; written: () => number; markerMs: () => number } {
  let n = 0;
  let markerMs = 0;
  const timed = async (work: () => Promise<void>) => {
    const t0 = performance.now();
    try {
      await work();
    } finally {
      markerMs += performance.now() - t0;
    }
  };
  const fs: StoreFs = {
    ...nodeFs,
    async openInPlace(path) {
      const f = await nodeFs.openInPlace(path);
      return { ...f, writeAt: (data, offset) => timed(() => f.writeAt(data, offset)), datasync: () => timed(() => f.datasync()) };
    },
    async writeNew(path, data) {
      n += data.length;
      await nodeFs.writeNew(path, data);
    },
    async openAppend(path) {
      const f = await nodeFs.openAppend(path);
      return {
        ...f,
        async append(data) {
          n += data.length;
          await f.append(data);
        },
      };
    },
  };
  return { fs, written: () => n, markerMs: () => markerMs };
}

/** Roughly what xstate persists for one group machine (~1.3 KB). */
function groupSnapshot(g: number, step: number) {
  const hosts = [`hv-${g}-a`, `hv-${g}-b`];
  return {
    machineVersion: 'group-v1',
    snapshot: {
      status: 'active',
      value: step % 2 === 0 ? 'draining' : 'upgrading',
      historyValue: {},
      children: {},
      context: {
        group: `g${String(g).padStart(5, '0')}`,
        hosts,
        step,
        moves: Array.from({ length: 8 }, (_, i) => ({ vm: `vm-${g}-${i}`, from: hosts[0], to: `hv-${g + 1}-a`, done: i < step % 8 })),
        deadline: '2026-01-01T00:30:00.000Z',
      },
    },
  };
}

async function measure(groups: number): Promise<Record<string, number>> {
  const root = await mkdtemp(join(tmpdir(), 'hvroll-bench-store-'));
  const tag = groups >= 1000 ? `${groups / 1000}k` : String(groups);
  try {
    const counter = countingFs();
    const dir = join(root, 'c');
    const plan = { groups: Array.from({ length: groups }, (_, g) => ({ name: `g${g}`, hosts: [`hv-${g}-a`, `hv-${g}-b`] })) } as unknown as PlanFile;
    const store = await CampaignStore.create(
      dir,
      { campaignId: 'bench', operator: 'bench', plan, planFingerprint: 'sha256:bench', machineVersion: 'group-v1' },
      { fs: counter.fs, compaction: { maxJournalRecords: 1e9, minJournalBytes: 1 << 30 } },
    );
    await Promise.all(Array.from({ length: groups }, (_, g) => store.saveGroupSnapshot(`g${String(g).padStart(5, '0')}`, groupSnapshot(g, 0))));
    let t0 = performance.now();
    await store.compact();
    const compactMs = performance.now() - t0;
    const snapshotBytes = store.stats().snapshotBytes;

    const b0 = counter.written();
    const m0 = counter.markerMs();
    t0 = performance.now();
    for (let i = 0; i < CHECKPOINTS; i++) {
      const g = (i * 7919) % groups;
      await store.saveGroupSnapshot(`g${String(g).padStart(5, '0')}`, groupSnapshot(g, i + 1));
    }
    const ms = (performance.now() - t0) / CHECKPOINTS;
    const markerMs = (counter.markerMs() - m0) / CHECKPOINTS;
    const bytes = (counter.written() - b0) / CHECKPOINTS;
    await store.close();

    t0 = performance.now();
    const reopened = await CampaignStore.open(dir, { readOnly: true });
    const openMs = performance.now() - t0;
    await reopened.close();
    return {
      [`store.checkpoint.bytes.${tag}`]: Math.round(bytes),
      [`store.checkpoint.ms.${tag}`]: Number(ms.toFixed(3)),
      [`store.checkpoint.marker.ms.${tag}`]: Number(markerMs.toFixed(3)),
      [`store.compact.ms.${tag}`]: Math.round(compactMs),
      [`store.snapshot.bytes.${tag}`]: snapshotBytes,
      [`store.open.ms.${tag}`]: Math.round(openMs),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export async function benchStore(): Promise<Record<string, number>> {
  return { ...(await measure(1000)), ...(await measure(20_000)) };
}
