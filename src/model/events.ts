// What the engine tells the outside (progress view, logs, chat notifiers) as a campaign runs.

export interface CampaignTotals {
  groups: number;
  done: number;
  failed: number;
  aborted: number;
}

export type EngineEvent =
  | { type: 'campaign.started'; campaignId: string; resumed: boolean; waves: number; groups: number }
  /** An operator's pause or abort request was applied (the campaign then winds down). */
  | { type: 'campaign.paused'; operator: string }
  | { type: 'campaign.aborted'; operator: string }
  | { type: 'wave.started'; wave: number; groups: string[] }
  | { type: 'group.state'; group: string; state: string; hosts: string[] }
  /** The group left pending/approval and began changing hosts (in this run). */
  | { type: 'group.started'; group: string; className: string; hosts: string[] }
  | { type: 'group.awaiting-approval'; group: string; className: string }
  /** `durationMs`: from the group's start in this run to its end. */
  | { type: 'group.finished'; group: string; state: 'done' | 'failed' | 'aborted'; error?: string; outOfPool: { host: string; why: string }[]; durationMs?: number }
  /** The step that failed a group for good (retries spent): where, its exit code and the last lines it printed. */
  | { type: 'step.failed'; group: string; step: string; host: string | null; exitCode: number | null; outputTail: string; error: string }
  /** More groups failed than the failure budget allows: no new group starts. */
  | { type: 'budget.reached'; failed: number; budget: number }
  /** The estimated time to finish moved significantly from the last one announced. */
  | { type: 'eta.changed'; remainingSeconds: number; previousSeconds: number; finishAt: string }
  | { type: 'campaign.finished'; state: string; failed: string[]; outOfPool: { host: string; why: string }[]; totals?: CampaignTotals; durationMs?: number };

export type EngineListener = (e: EngineEvent) => void;
