import { ValidationError } from '../errors';
import type { CloudEvent } from '../model/cloud-event';
import { REPLAY_ID } from '../events/gateway-extensions';
import type {
  AcceptedContext,
  IntakeContext,
  IntakePlugin,
  IntakeVerdict,
  PluginHost,
} from '../plugins/intake-plugin';
import { MAX_TIMER_MS, optionsArgument, positiveOption } from '../model/checks';
import { describeError } from '../model/describe-error';
import { ArchiveFilter } from './archive-filter';
import { DropReports, MAX_REPORTED_IDS } from './drop-reports';

/** Options every archive shares ({@link S3Archive}, {@link KafkaArchive}). */
export interface ArchiveSinkOptions {
  /** The plugin's name (in metrics and errors); two archives in one gateway need two names. */
  name?: string;
  /** Archive only these spaces. @default every space */
  spaces?: readonly string[];
  /**
   * Archive only these event types: a name, or a prefix ending in `*` (`order.*`).
   * @default every type
   */
  types?: readonly string[];
  /**
   * Most bytes (of JSON) held while waiting to be written: events pile up here while the archive
   * is unreachable. Past it, `whenFull` applies.
   * @default 67108864 (64 MiB)
   */
  maxBufferBytes?: number;
  /**
   * What happens to new events once the buffer is full: `refuse` them (the Events API answers
   * 503, `emit` rejects with EventRefusedError: nothing is lost unseen) or `drop` them from the
   * archive (they are still delivered; each drop is counted and reported by an
   * `archive.dropped` system event).
   * @default 'refuse'
   */
  whenFull?: 'refuse' | 'drop';
  /**
   * How long one write may take (ms) before it is abandoned and retried.
   * @default 30000
   */
  writeTimeout?: number;
  /** Retry of failed writes: exponential from `initialDelay` to `maxDelay` (ms), forever. */
  retry?: { initialDelay?: number; maxDelay?: number };
}

/** Events held for one write (encoded as the archive keeps them), and where they go. */
export interface ArchiveBatch<T> {
  /** The group the batch belongs to (S3: space and type). */
  readonly group: string;
  /** The space and type of its first event (all of them, when the group is space and type). */
  readonly space: string;
  readonly type: string;
  /** The events, as the archive encoded them (see `append`). */
  readonly data: T;
  count: number;
  bytes: number;
  /** When its first and last events were accepted (ms since the epoch). */
  readonly firstAt: number;
  lastAt: number;
  /**
   * Per space: how many of its events the batch holds, and the first IDs: what the drop report
   * names if the batch is never written (the data itself is encoded for the archive).
   */
  readonly spaces: Map<string, { count: number; eventIds: string[] }>;
}

/** A write failure is reported at most this often (ms). */
const FAILURE_REPORT_INTERVAL = 10_000;

/**
 * The buffer behind every archive: accepted events (the `accepted` hook) go into batches by
 * group, sealed by size or age and written by the subclass, with retries; a full buffer refuses
 * new events (`onEvent`) or drops them, by policy. Replayed events are never archived again.
 */
export abstract class ArchiveSink<T> implements IntakePlugin {
  readonly name: string;
  private readonly filter: ArchiveFilter;
  private readonly maxBufferBytes: number;
  private readonly whenFull: 'refuse' | 'drop';
  private host: PluginHost | undefined;
  private readonly open = new Map<string, ArchiveBatch<T>>();
  private readonly sealed: ArchiveBatch<T>[] = [];
  private writing = 0;
  private ageTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private closing = false;
  private readonly aborter = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private readonly drops: DropReports;
  /** Events close() could not write, reported as drops (another reason than a full buffer). */
  private readonly unwritten: DropReports;
  private drainTimeout = 0;
  /** Set once close() reported what it could not write: later failures report at once. */
  private closeReported = false;
  private failureReportedAt = -Infinity;
  private lastError: string | undefined;
  private readonly counts = {
    archived: 0,
    writes: 0,
    writeFailures: 0,
    refused: 0,
    dropped: 0,
    lost: 0,
    bufferedEvents: 0,
    bufferedBytes: 0,
  };

  private readonly concurrency: number;
  private readonly maxBatchBytes: number;
  private readonly maxBatchAge: number;
  private readonly retry: import('cockatiel').RetryPolicy;
  private readonly writeTimeout: number;

  /** `settings`: the subclass's name, writes at once, and batch bounds (validated by it). */
  protected constructor(
    options: ArchiveSinkOptions,
    settings: { name: string; concurrency: number; maxBatchBytes: number; maxBatchAge: number },
  ) {
    optionsArgument(options, `new ${new.target.name}(options)`);
    this.name = options.name ?? settings.name;
    if (typeof this.name !== 'string' || this.name === '') {
      throw new ValidationError(`${settings.name}: option "name" must be a non-empty string.`);
    }
    this.concurrency = settings.concurrency;
    this.maxBatchBytes = settings.maxBatchBytes;
    this.maxBatchAge = settings.maxBatchAge;
    this.filter = new ArchiveFilter(options.spaces, options.types);
    this.maxBufferBytes = positiveOption(
      options.maxBufferBytes ?? 64 * 1024 * 1024,
      'maxBufferBytes',
    );
    this.whenFull = options.whenFull ?? 'refuse';
    if (this.whenFull !== 'refuse' && this.whenFull !== 'drop') {
      throw new ValidationError(`option "whenFull" must be 'refuse' or 'drop'.`);
    }
    this.drops = new DropReports(
      this.name,
      (space, report) => this.host?.archiveDropped(space, report),
      () =>
        `the archive's buffer is full (${this.maxBufferBytes} bytes)${this.lastError ? `; last failure: ${this.lastError}` : ''}`,
    );
    this.unwritten = new DropReports(
      this.name,
      (space, report) => this.host?.archiveDropped(space, report),
      () =>
        `the gateway closed before they were written (drain timeout ${this.drainTimeout} ms; a write in flight then may still have landed)${this.lastError ? `; last failure: ${this.lastError}` : ''}`,
    );
    // Only `refuse` needs to see events before routing: without the hook, intake skips a step.
    if (this.whenFull === 'drop') Object.defineProperty(this, 'onEvent', { value: undefined });
    this.writeTimeout = positiveOption(
      options.writeTimeout ?? 30_000,
      'writeTimeout',
      MAX_TIMER_MS,
    );
    const initialDelay = positiveOption(
      options.retry?.initialDelay ?? 100,
      'retry.initialDelay',
      MAX_TIMER_MS,
    );
    const maxDelay = positiveOption(
      options.retry?.maxDelay ?? 10_000,
      'retry.maxDelay',
      MAX_TIMER_MS,
    );
    const { retry, handleAll, ExponentialBackoff } = loadCockatiel();
    this.retry = retry(handleAll, {
      maxAttempts: Number.MAX_SAFE_INTEGER,
      backoff: new ExponentialBackoff({ initialDelay, maxDelay }),
    });
    this.retry.onRetry((reason) => {
      if (!('error' in reason)) return;
      this.counts.writeFailures++;
      this.lastError = describeError(reason.error);
      this.reportFailure(reason.error);
    });
  }

  /** The group (a batch per group) an event goes into. */
  protected abstract groupOf(space: string, type: string): string;
  /** A new batch's empty data. */
  protected abstract newData(): T;
  /**
   * Adds the event to a batch's data, encoded as the archive keeps it (the batch holds no event
   * objects); returns about how many bytes it takes. `seq` orders events accepted in the same
   * millisecond.
   */
  protected abstract append(
    data: T,
    event: CloudEvent,
    where: AcceptedContext,
    acceptedAt: number,
    seq: number,
  ): number;
  /** Writes a sealed batch; throws to have it retried. */
  protected abstract write(batch: ArchiveBatch<T>, signal: AbortSignal): Promise<void>;
  /** Releases the archive's clients (after the last write). */
  protected abstract release(): Promise<void>;

  attach(host: PluginHost): void {
    if (this.closing) {
      throw new ValidationError(
        `The archive "${this.name}" was closed with its gateway: make a new one (a closed archive can still be a replay's source).`,
      );
    }
    this.host = host;
  }

  /** With the `refuse` policy, refuses an event the full buffer could not take. */
  onEvent(event: CloudEvent, context: IntakeContext): IntakeVerdict | undefined {
    if (this.counts.bufferedBytes < this.maxBufferBytes || this.whenFull !== 'refuse') return;
    if (!this.wants(event, context.space)) return;
    this.counts.refused++;
    return {
      refuse:
        `The archive "${this.name}" is full (${this.counts.bufferedEvents} events waiting to be written` +
        `${this.lastError ? `; last failure: ${this.lastError}` : ''}): the event was refused rather than left out of it. Retry later.`,
      status: 503,
    };
  }

  accepted(event: CloudEvent, context: AcceptedContext): void {
    if (!this.wants(event, context.space)) return;
    // With `refuse`, room was checked at intake: events accepted meanwhile still go in.
    if (this.whenFull === 'drop' && this.counts.bufferedBytes >= this.maxBufferBytes) {
      this.counts.dropped++;
      this.drops.add(context.space, event.id);
      return;
    }
    const acceptedAt = Date.now();
    const { space } = context;
    const group = this.groupOf(space, event.type);
    let batch = this.open.get(group);
    if (!batch) {
      const { type } = event;
      const data = this.newData();
      batch = {
        group,
        space,
        type,
        data,
        count: 0,
        bytes: 0,
        firstAt: acceptedAt,
        lastAt: 0,
        spaces: new Map(),
      };
      this.open.set(group, batch);
    }
    let members = batch.spaces.get(space);
    if (!members) batch.spaces.set(space, (members = { count: 0, eventIds: [] }));
    members.count++;
    if (members.eventIds.length < MAX_REPORTED_IDS) members.eventIds.push(event.id);
    const bytes = this.append(batch.data, event, context, acceptedAt, ++this.seq);
    batch.count++;
    batch.lastAt = acceptedAt;
    batch.bytes += bytes;
    this.counts.bufferedEvents++;
    this.counts.bufferedBytes += bytes;
    // Once closing, no age timer runs: an event accepted now is written (or reported) at once.
    if (batch.bytes >= this.maxBatchBytes || this.closing) this.seal(batch);
    else this.ageTimer ??= unref(setTimeout(() => this.sealAged(), this.maxBatchAge));
  }

  /**
   * Seals every open batch and writes them, waiting at most `timeoutMs`; what is left is counted
   * `lost` and reported before it resolves: an `archive.dropped` report per space (count, first IDs)
   * and one error.
   */
  async close(timeoutMs: number): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.drainTimeout = timeoutMs;
      for (const batch of [...this.open.values()]) this.seal(batch);
      clearTimeout(this.ageTimer);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.idle(),
        new Promise((resolve) => (timer = setTimeout(resolve, Math.min(timeoutMs, MAX_TIMER_MS)))),
      ]);
      clearTimeout(timer);
      this.aborter.abort(new Error('the gateway closed'));
      await this.idle(); // every batch not written is now counted lost and in `unwritten`
      this.drops.flush();
      this.unwritten.flush();
      this.closeReported = true;
      const left = this.counts.lost;
      if (left > 0) {
        this.host?.reportError(
          new Error(
            `The archive "${this.name}" could not write ${left} events before the gateway closed` +
              `${this.lastError ? ` (last failure: ${this.lastError})` : ''}: they are not archived (each space has an archive.dropped report of them).`,
          ),
        );
      }
    }
    await this.release();
  }

  stats(): Record<string, number> {
    return { ...this.counts };
  }

  private wants(event: CloudEvent, space: string): boolean {
    return event[REPLAY_ID] === undefined && this.filter.matches(space, event.type);
  }

  private sealAged(): void {
    this.ageTimer = undefined;
    const now = Date.now();
    let next = Infinity;
    for (const batch of [...this.open.values()]) {
      const due = batch.firstAt + this.maxBatchAge;
      if (due <= now + 5) this.seal(batch);
      else next = Math.min(next, due);
    }
    if (next !== Infinity) this.ageTimer = unref(setTimeout(() => this.sealAged(), next - now));
  }

  private seal(batch: ArchiveBatch<T>): void {
    this.open.delete(batch.group);
    this.sealed.push(batch);
    this.pump();
  }

  private pump(): void {
    while (this.writing < this.concurrency && this.sealed.length > 0) {
      const batch = this.sealed.shift()!;
      this.writing++;
      void this.writeUntilDone(batch).finally(() => {
        this.writing--;
        this.pump();
        if (this.writing === 0 && this.sealed.length === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
    }
  }

  /** Writes a batch, retrying (exponential backoff) until it is written or the archive closes. */
  private async writeUntilDone(batch: ArchiveBatch<T>): Promise<void> {
    // Closed: no write, which would make a client (a thread) anew after release() closed it.
    if (this.aborter.signal.aborted) return this.lose(batch);
    try {
      await this.retry.execute(
        ({ signal }) =>
          this.write(batch, AbortSignal.any([signal, AbortSignal.timeout(this.writeTimeout)])),
        this.aborter.signal,
      );
    } catch {
      this.lose(batch); // cancelled by close()
      return;
    }
    this.counts.writes++;
    this.counts.archived += batch.count;
    this.counts.bufferedEvents -= batch.count;
    this.counts.bufferedBytes -= batch.bytes;
    this.lastError = undefined;
  }

  /** Counts a batch close() could not write as lost, for a drop report per space. */
  private lose(batch: ArchiveBatch<T>): void {
    this.counts.lost += batch.count;
    this.counts.bufferedEvents -= batch.count;
    this.counts.bufferedBytes -= batch.bytes;
    for (const [space, { count, eventIds }] of batch.spaces) {
      this.unwritten.addMany(space, count, eventIds);
    }
    if (this.closeReported) this.unwritten.flush();
  }

  private idle(): Promise<void> {
    if (this.writing === 0 && this.sealed.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private reportFailure(error: unknown): void {
    const now = performance.now();
    if (now - this.failureReportedAt < FAILURE_REPORT_INTERVAL) return;
    this.failureReportedAt = now;
    this.host?.reportError(
      new Error(
        `The archive "${this.name}" failed to write (${this.counts.bufferedEvents} events wait; retrying): ${describeError(error)}`,
        { cause: error },
      ),
    );
  }
}

function unref(timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref();
  return timer;
}

/** cockatiel, loaded with the first archive (a gateway without one does not pay for it). */
function loadCockatiel(): typeof import('cockatiel') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
  return require('cockatiel') as typeof import('cockatiel');
}
