// What a campaign records besides its journal: how it started, approvals, releases, notifications sent and
// the audit trail. The campaign store keeps them; status, audit, the report and the notifier read them.

export interface CampaignMeta {
  campaignId: string;
  /** ISO timestamp. */
  createdAt: string;
  operator: string;
  planFingerprint: string;
  /** Version of the machine definitions the campaign was started with. */
  machineVersion: string;
  /** `sha256:` of the plan's canonical body (src/plan-file/seal.ts), set by `run`; resume checks plan.json against it. */
  planSeal?: string;
  /**
   * How `run` started the campaign (plan path, runbook, its hash, the variables), written with the store itself:
   * resume needs it, so it must not depend on a later write (the `run` audit record) that a full disk can refuse.
   */
  start?: CampaignStart;
}

export interface CampaignStart {
  plan: string;
  runbook: string;
  runbookSha: string;
  vars: Record<string, string>;
}

export interface Approval {
  group: string;
  operator: string;
  at: string;
  comment?: string;
}

/** An operator put a host the campaign had left out of the pool back in it (`hvroll release`: verified, then enabled). */
export interface HostRelease {
  host: string;
  /** The group that left it out of the pool. */
  group: string;
  operator: string;
  at: string;
  comment?: string;
}

export interface NotificationRecord {
  channel: string;
  event: string;
  at: string;
  status: 'sent' | 'failed';
  attempts?: number;
  detail?: string;
}

export interface AuditEvent {
  at: string;
  operator: string;
  action: string;
  details?: unknown;
}
