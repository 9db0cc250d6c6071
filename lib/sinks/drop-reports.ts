import type { ArchiveDroppedReport } from '../model/system-events';

const REPORT_INTERVAL = 1000;
/**
 * How many event IDs one report names at most (it counts the rest).
 * @default 100
 * @example
 * ```ts
 * if (ids.length < MAX_REPORTED_IDS) ids.push(event.id);
 * ```
 */
export const MAX_REPORTED_IDS = 100;

/**
 * Gathers the events an archive dropped and reports them at most once a second per space (one
 * `archive.dropped` system event each, with the first 100 IDs): a full buffer under load must not
 * turn into a flood of system events.
 */
export class DropReports {
  private drops = new Map<string, { dropped: number; eventIds: string[] }>();
  private timer: NodeJS.Timeout | undefined;

  /** `raise` sends one report; `reason` says why, at the time of the report. */
  constructor(
    private readonly archive: string,
    private readonly raise: (space: string, report: ArchiveDroppedReport) => void,
    private readonly reason: () => string,
  ) {}

  add(space: string, eventId: string): void {
    this.addMany(space, 1, [eventId]);
  }

  /** Adds `count` drops in `space`, of which `eventIds` are the first. */
  addMany(space: string, count: number, eventIds: readonly string[]): void {
    let report = this.drops.get(space);
    if (!report) this.drops.set(space, (report = { dropped: 0, eventIds: [] }));
    report.dropped += count;
    const room = MAX_REPORTED_IDS - report.eventIds.length;
    if (room > 0) report.eventIds.push(...eventIds.slice(0, room));
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), REPORT_INTERVAL);
      this.timer.unref();
    }
  }

  /** Reports what was gathered, now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const drops = this.drops;
    this.drops = new Map();
    const reason = drops.size > 0 ? this.reason() : '';
    for (const [space, { dropped, eventIds }] of drops) {
      this.raise(space, { archive: this.archive, space, dropped, eventIds, reason });
    }
  }
}
