// The part of the step journal the store keeps in memory: every open intent, and every entry of a group that
// has not settled (the engine's reconciles ask about those: was this host disabled by us, was its reboot
// sent, which boot id did it have). Once a group settles (reached `done`; the engine never asks about it
// again), its finished entries move to `unarchived` and, at the next compaction, into a history segment
// on disk (history-file.ts). Memory and the snapshot then grow with the groups in flight, not with the
// campaign's history.

import type { JournalEntry, JournalId, OutcomeEntry } from '../model/journal.ts';

/** Per journal step: how many commands finished, and how many of them exited 0 (hvroll status counts these). */
export interface StepTally {
  finished: number;
  exitZero: number;
}

export class LiveJournal {
  /** Live entries by id; Map iteration order is insertion order, which is id order. */
  private readonly live = new Map<JournalId, JournalEntry>();
  private readonly byGroup = new Map<string, JournalEntry[]>();
  private readonly settledGroups = new Set<string>();
  /** Finished entries of settled groups, in the order they finished; written out at the next compaction. */
  unarchived: JournalEntry[] = [];
  /** Ids given so far (the next intent gets nextId + 1). */
  lastId: number;
  readonly tally: Record<string, StepTally>;

  constructor(lastId: number, entries: JournalEntry[], unarchived: JournalEntry[], tally: Record<string, StepTally>, settled: Iterable<string>) {
    this.lastId = lastId;
    this.tally = tally;
    for (const g of settled) this.settledGroups.add(g);
    for (const e of entries) this.index(e);
    this.unarchived = unarchived;
  }

  private index(e: JournalEntry): void {
    this.live.set(e.id, e);
    let list = this.byGroup.get(e.group);
    if (!list) this.byGroup.set(e.group, (list = []));
    list.push(e);
  }

  /** Returns a problem when the entry does not fit (corruption), else adds it. */
  add(e: JournalEntry): string | undefined {
    if (e.id !== this.lastId + 1) return `intent id ${e.id} out of order (expected ${this.lastId + 1})`;
    this.lastId = e.id;
    this.index(e);
    return undefined;
  }

  finish(id: JournalId, outcome: OutcomeEntry): string | undefined {
    const e = this.live.get(id);
    if (e === undefined) return id >= 1 && id <= this.lastId ? `second outcome for intent ${id}` : `outcome for unknown intent ${id}`;
    if (e.outcome !== undefined) return `second outcome for intent ${id}`;
    e.outcome = outcome;
    const t = (this.tally[e.step] ??= { finished: 0, exitZero: 0 });
    t.finished++;
    if (outcome.exitCode === 0) t.exitZero++;
    if (this.settledGroups.has(e.group)) this.retire([e]);
    return undefined;
  }

  /** The group will never be asked about again: its finished entries leave memory (open ones stay until done). */
  settle(group: string): void {
    if (this.settledGroups.has(group)) return;
    this.settledGroups.add(group);
    const list = this.byGroup.get(group);
    if (list) this.retire(list.filter((e) => e.outcome !== undefined));
  }

  private retire(done: JournalEntry[]): void {
    if (done.length === 0) return;
    for (const e of done) {
      this.live.delete(e.id);
      this.unarchived.push(e);
    }
    const gone = new Set(done);
    const group = done[0]!.group;
    const left = (this.byGroup.get(group) ?? []).filter((e) => !gone.has(e));
    if (left.length === 0) this.byGroup.delete(group);
    else this.byGroup.set(group, left);
  }

  get(id: JournalId): JournalEntry | undefined {
    return this.live.get(id);
  }

  /** Live entries (of one group when given), in id order. */
  entries(group?: string): readonly JournalEntry[] {
    return group === undefined ? [...this.live.values()] : (this.byGroup.get(group) ?? []);
  }

  get size(): number {
    return this.live.size;
  }
}
