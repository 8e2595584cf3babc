// Public surface of the campaign store.
export { CampaignStore, adoptStore, breakLock, listCampaigns, stepKey } from './store.ts';
export type { BreakLockOptions, CampaignSummary, CreateInit, JournalFilter, OpenOptions, StoreOptions, TakeOver } from './store.ts';
export type {
  Approval,
  AuditEvent,
  CampaignMeta,
  IntentEntry,
  JournalEntry,
  JournalId,
  NotificationRecord,
  OutcomeEntry,
  PersistedGroup,
} from './doc.ts';
export { OUTPUT_TAIL_MAX } from './doc.ts';
export { campaignDir } from './paths.ts';
export { nodeFs } from './fs.ts';
export type { StoreFs, AppendFile } from './fs.ts';
export type { LockInfo, LockState, LockEnv } from './lock.ts';
export type { CompactionPolicy, AdapterStats } from './adapter.ts';
export type { StepTally } from './live-journal.ts';
