// The live view of a running campaign on a terminal: one line per active group, an overall bar, and the
// last notable events. Off a terminal the same events become plain JSON log lines instead.

import logUpdate from 'log-update';
import type { EngineEvent } from '../../model/events.ts';

const BAR = 30;

export interface ProgressViewOptions {
  /** The exact command that approves a group, as the operator should type it (campaign id, --state). */
  approveCommand?: (group: string) => string;
  /** Where frames go; default log-update on stdout (each frame replaces the last). */
  write?: (frame: string) => void;
  /** Ends the live area (log-update keeps the last frame on screen). */
  done?: () => void;
}

export class ProgressView {
  private readonly active = new Map<string, { state: string; since: number; hosts: number }>();
  private finished = 0;
  private failed = 0;
  private wave = 0;
  private readonly notes: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly totalGroups: number,
    private readonly totalWaves: number,
    private readonly now: () => number = Date.now,
    private readonly o: ProgressViewOptions = {},
  ) {}

  start(): void {
    this.timer = setInterval(() => this.render(), 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.render();
    (this.o.done ?? logUpdate.done)();
  }

  onEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'wave.started':
        this.wave = e.wave;
        break;
      case 'group.state':
        if (!['done', 'failed', 'aborted'].includes(e.state)) this.active.set(e.group, { state: e.state, since: this.now(), hosts: e.hosts.length });
        break;
      case 'group.awaiting-approval':
        this.note(`${e.group} (${e.className}) awaits approval: ${this.o.approveCommand ? this.o.approveCommand(e.group) : `hvroll approve <campaign> ${e.group}`}`);
        break;
      case 'group.finished':
        this.active.delete(e.group);
        this.finished++;
        if (e.state === 'failed') {
          this.failed++;
          this.note(`${e.group} FAILED: ${e.error ?? 'see hvroll status'}`);
        }
        break;
      default:
        break;
    }
    this.render();
  }

  private note(text: string): void {
    this.notes.push(text);
    if (this.notes.length > 5) this.notes.shift();
  }

  render(): void {
    const share = this.totalGroups === 0 ? 1 : this.finished / this.totalGroups;
    const filled = Math.round(share * BAR);
    const lines = [
      `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${this.finished}/${this.totalGroups} groups, wave ${this.wave + 1}/${this.totalWaves}${this.failed ? `, ${this.failed} failed` : ''}`,
      ...[...this.active].slice(0, 20).map(([g, a]) => `  ${g.padEnd(24)} ${a.state.padEnd(18)} ${Math.round((this.now() - a.since) / 1000)}s (${a.hosts} host${a.hosts === 1 ? '' : 's'})`),
      ...(this.active.size > 20 ? [`  … ${this.active.size - 20} more groups active`] : []),
      ...this.notes.map((n) => `! ${n}`),
    ];
    (this.o.write ?? logUpdate)(lines.join('\n'));
  }
}
