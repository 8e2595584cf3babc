// What the engine tells the outside (progress view, logs, chat notifiers) as a campaign runs.

export type EngineEvent =
  | { type: 'campaign.started'; campaignId: string; resumed: boolean; waves: number; groups: number }
  | { type: 'wave.started'; wave: number; groups: string[] }
  | { type: 'group.state'; group: string; state: string; hosts: string[] }
  | { type: 'group.awaiting-approval'; group: string; className: string }
  | { type: 'group.finished'; group: string; state: 'done' | 'failed' | 'aborted'; error?: string; outOfPool: { host: string; why: string }[] }
  | { type: 'campaign.finished'; state: string; failed: string[]; outOfPool: { host: string; why: string }[] };

export type EngineListener = (e: EngineEvent) => void;
