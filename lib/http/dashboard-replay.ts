import type { Gateway } from '../gateway';
import {
  ArchiveUnavailableError,
  ReplayBusyError,
  ReplayNotConfiguredError,
  ValidationError,
} from '../errors';
import { showValue } from '../model/describe-error';
import { parseIsoTime } from '../model/iso-time';
import type { ArchivedEvent, ArchiveQuery, ArchiveSource } from '../plugins/archive-source';

/** How the dashboard's replay dry runs spare the host: each one reads a bounded part of the archive. */
export interface DashboardReplayLimits {
  /**
   * The longest window (`to - from`) one dry run may ask for, ms.
   * @default 86400000 (one day)
   */
  maxWindowMs?: number;
  /**
   * Archived events of the space (and type) one dry run reads at most; it then stops and says so
   * (`stoppedBy: 'maxEvents'`). Other spaces' records passed over count only against `timeoutMs`.
   * @default 100000
   */
  maxEvents?: number;
  /**
   * How long one dry run reads at most, ms; it then stops and says so (`stoppedBy: 'timeout'`).
   * @default 10000
   */
  timeoutMs?: number;
}

/** What a dashboard's replay dry run answers: what a replay of the window would do, sending nothing. */
export interface DashboardReplayResult {
  readonly space: string;
  /** The window, as ISO times. */
  readonly from: string;
  readonly to: string;
  readonly type?: string;
  /** Events of the space (and type) read from the archive in the window. */
  readonly read: number;
  /** Of those, the events a replay would emit. */
  readonly emitted: number;
  /** Of those, the events the gateway would refuse (invalid, looping...). */
  readonly refused: number;
  /** The last refusal's reason, if any. */
  readonly lastRefusal?: string;
  /** Deliveries a replay would make. */
  readonly deliveries: number;
  /** Deliveries per function, most first: at most 100 functions. */
  readonly byFunction: readonly { functionId: string; deliveries: number }[];
  /** Functions left out of `byFunction` (past the first 100). */
  readonly functionsNotShown: number;
  /** False when a limit stopped the reading: the figures are then those of a part of the window. */
  readonly complete: boolean;
  /** The limit that stopped it, when one did. */
  readonly stoppedBy?: 'maxEvents' | 'timeout';
  readonly elapsedMs: number;
}

const MAX_FUNCTIONS_SHOWN = 100;
/** How long past `timeoutMs` the replay itself may take to stop before it is aborted. */
const STOP_GRACE_MS = 2000;
/**
 * Dry runs at once, each of its own space: one tenant's runs never hold the form for the others,
 * and the archive is read by a few at most.
 */
const MAX_RUNNING = 4;

function limit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`Dashboard: "replayLimits.${name}" must be a positive integer.`);
  }
  return value;
}

/**
 * The dashboard's replay dry runs: `gateway.replay({ dryRun: true })` of one space's window of an
 * archive, bounded (window length, events read, time), one at a time per space and a few at most at once,
 * since even a dry run reads the archive. A dry run sends nothing (no plugin, function or authorizer is called), so a key
 * with read scope may run one.
 * @example
 * ```ts
 * const replays = new DashboardReplay(gateway, archive, { maxEvents: 10_000 });
 * const result = await replays.dryRun('default', { from: '2026-12-05T00:00:00Z', to: '2026-12-05T01:00:00Z' });
 * // { read: 1200, emitted: 1200, deliveries: 2400, byFunction: [...], complete: true, ... }
 * ```
 */
export class DashboardReplay {
  private readonly limits: Required<DashboardReplayLimits>;
  /** The dry runs running, by space (one per space). */
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly gateway: Partial<Pick<Gateway, 'replay'>>,
    private readonly source: ArchiveSource | undefined,
    limits: DashboardReplayLimits = {},
  ) {
    if (source !== undefined && typeof source?.read !== 'function') {
      throw new TypeError(
        'Dashboard: "replaySource" must be an archive (an S3Archive or a KafkaArchive).',
      );
    }
    if (source !== undefined && typeof gateway.replay !== 'function') {
      throw new TypeError(
        'Dashboard: a "replaySource" needs a gateway that can replay (from createGateway).',
      );
    }
    this.limits = {
      maxWindowMs: limit(limits.maxWindowMs, 86_400_000, 'maxWindowMs'),
      maxEvents: limit(limits.maxEvents, 100_000, 'maxEvents'),
      timeoutMs: limit(limits.timeoutMs, 10_000, 'timeoutMs'),
    };
  }

  /** Whether there is an archive to replay from, and the limits of a dry run (what the page shows). */
  describe(): { configured: boolean } & Partial<Required<DashboardReplayLimits>> {
    return this.source ? { configured: true, ...this.limits } : { configured: false };
  }

  /**
   * A dry run of a replay of `space`'s events in `input`'s window (`{ from, to, type? }`, ISO
   * times). Rejects with ReplayNotConfiguredError without an archive, ValidationError for a bad
   * window, ReplayBusyError while another dry run runs, ArchiveUnavailableError when the archive
   * cannot be read.
   */
  async dryRun(space: string, input: unknown): Promise<DashboardReplayResult> {
    const source = this.source;
    if (!source) {
      throw new ReplayNotConfiguredError(
        'Replay is not configured: this dashboard was given no archive to read (replaySource).',
      );
    }
    const { from, to, type } = this.checkInput(input);
    if (this.running.has(space) || this.running.size >= MAX_RUNNING) {
      throw new ReplayBusyError(
        this.running.has(space)
          ? 'A replay dry run of this space is running already; try again when it ends.'
          : 'Too many replay dry runs are running; try again when one ends.',
      );
    }
    const running = new AbortController();
    this.running.set(space, running);
    const stopped: { by?: 'maxEvents' | 'timeout' } = {};
    const started = performance.now();
    const deadline = AbortSignal.timeout(this.limits.timeoutMs);
    // The replay itself is aborted only if it outlives its reading (an archive that ignores its signal).
    const hardStop = AbortSignal.any([
      running.signal,
      AbortSignal.timeout(this.limits.timeoutMs + STOP_GRACE_MS),
    ]);
    try {
      const replay = this.gateway.replay as Gateway['replay'];
      const totals = await replay.call(this.gateway, {
        source: bounded(source, this.limits.maxEvents, deadline, stopped),
        from,
        to,
        space,
        ...(type !== undefined ? { type } : {}),
        dryRun: true,
        signal: hardStop,
      });
      const byFunction = (totals.byFunction ?? [])
        .filter((entry) => entry.space === space)
        .sort((a, b) => b.deliveries - a.deliveries);
      return {
        space,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        ...(type !== undefined ? { type } : {}),
        read: totals.read,
        emitted: totals.emitted,
        refused: totals.refused,
        ...(totals.lastRefusal !== undefined ? { lastRefusal: totals.lastRefusal } : {}),
        deliveries: totals.deliveries,
        byFunction: byFunction
          .slice(0, MAX_FUNCTIONS_SHOWN)
          .map(({ functionId, deliveries }) => ({ functionId, deliveries })),
        functionsNotShown: Math.max(0, byFunction.length - MAX_FUNCTIONS_SHOWN),
        complete: stopped.by === undefined,
        ...(stopped.by ? { stoppedBy: stopped.by } : {}),
        elapsedMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      if (hardStop.aborted && !running.signal.aborted) {
        throw new ArchiveUnavailableError(
          `The archive "${source.name}" did not stop reading within ${this.limits.timeoutMs + STOP_GRACE_MS} ms.`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      this.running.delete(space);
    }
  }

  /** Stops the running dry run, if any (it rejects). */
  close(): void {
    for (const running of this.running.values()) {
      running.abort(new ArchiveUnavailableError('The dashboard was closed.'));
    }
  }

  private checkInput(input: unknown): { from: number; to: number; type?: string } {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new ValidationError('The body must be a JSON object: { from, to, type? }.');
    }
    const { from: fromText, to: toText, type } = input as Record<string, unknown>;
    const from = isoInstant(fromText, 'from');
    const to = isoInstant(toText, 'to');
    if (!(from < to)) throw new ValidationError('"from" must be before "to".');
    if (to - from > this.limits.maxWindowMs) {
      throw new ValidationError(
        `The window is longer than the ${this.limits.maxWindowMs} ms a dry run may read; ask for a shorter one.`,
      );
    }
    if (type !== undefined && type !== '' && typeof type !== 'string') {
      throw new ValidationError(`"type" must be an event type, got ${showValue(type)}.`);
    }
    return { from, to, ...(typeof type === 'string' && type !== '' ? { type } : {}) };
  }
}

function isoInstant(value: unknown, name: string): number {
  const ms = parseIsoTime(value);
  if (ms === undefined) {
    throw new ValidationError(
      `"${name}" must be an ISO 8601 time with its offset (2026-12-05T10:00:00Z), got ${showValue(value)}.`,
    );
  }
  return ms;
}

/**
 * `source`, read up to `maxEvents` records of the query's space and type or until `deadline`: then it ends as if the window
 * did, noting why in `stopped`. A read stuck past the deadline is left behind (and told to stop).
 */
function bounded(
  source: ArchiveSource,
  maxEvents: number,
  deadline: AbortSignal,
  stopped: { by?: 'maxEvents' | 'timeout' },
): ArchiveSource {
  return {
    name: source.name,
    async *read(query: ArchiveQuery): AsyncGenerator<ArchivedEvent> {
      const signal = AbortSignal.any([query.signal, deadline]);
      const iterator = source.read({ ...query, signal })[Symbol.asyncIterator]();
      let finished = false;
      let count = 0;
      try {
        for (;;) {
          if (count >= maxEvents) {
            stopped.by = 'maxEvents';
            return;
          }
          let next: IteratorResult<ArchivedEvent> | 'late';
          try {
            // Stopped by the deadline or by the replay (the dashboard closed), even if the
            // archive ignores its signal.
            next = await nextBefore(iterator, signal);
          } catch (error) {
            if (!deadline.aborted || query.signal.aborted) throw error;
            next = 'late';
          }
          if (next === 'late') {
            // Stopped by the replay: it rejects with its reason.
            if (query.signal.aborted) return;
            stopped.by = 'timeout';
            return;
          }
          if (next.done) {
            finished = true;
            return;
          }
          // Another space's records (a Kafka topic holds every space's) are not this one's
          // business: neither counted nor told; the timeout bounds reading past them.
          if (elsewhere(next.value, query)) continue;
          count++;
          yield next.value;
        }
      } finally {
        // Not awaited: a read stuck in I/O must not hold the answer (its signal is aborted).
        if (!finished) void Promise.resolve(iterator.return?.()).catch(() => {});
      }
    },
  };
}

/** Whether a record is plainly of another space or type than asked (a malformed one is left to replay). */
function elsewhere(value: unknown, query: ArchiveQuery): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { space, event } = value as { space?: unknown; event?: unknown };
  if (query.space !== undefined && typeof space === 'string' && space !== query.space) return true;
  return (
    query.type !== undefined &&
    typeof event === 'object' &&
    event !== null &&
    (event as { type?: unknown }).type !== query.type
  );
}

/** The iterator's next result, or 'late' once `signal` is aborted, whichever comes first. */
function nextBefore<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T> | 'late'> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve('late');
    const late = () => resolve('late');
    signal.addEventListener('abort', late, { once: true });
    iterator.next().then(
      (result) => {
        signal.removeEventListener('abort', late);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', late);
        reject(error);
      },
    );
  });
}
