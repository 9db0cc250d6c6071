import { JournalUnavailableError } from '../errors';
import { optionsArgument } from '../model/checks';
import { describeError } from '../model/describe-error';
import { damageReports, discardDamaged, listDamaged, type DamagedRecord } from './damaged-records';
import type { Journal, JournalEntry, JournalSink, JournalSize } from './journal';
import { seqKey, type Level, type Op } from './level-layout';
import { loadJournal } from './local-journal-reader';
import { waitForFunctionsOption } from './waiting-deliveries';

/** Options of {@link LocalJournal}. */
export interface LocalJournalOptions {
  /** The journal's directory: created when missing, locked while open (one process at a time). */
  directory: string;
  /**
   * Most unfinished deliveries; past it, `emit` rejects with JournalUnavailableError.
   * @default 1000000
   */
  maxEntries?: number;
  /**
   * How long a delivery resumed after a restart waits for its function to be configured and, for
   * a `local` function, its handler bound, before it is dead-lettered, in ms (see
   * `Journal.waitForFunctions`). It stays in the journal while it waits.
   * @default Infinity
   */
  waitForFunctions?: number;
}

/** How long attempt counts and finished marks may wait before they are written, in ms. */
const LAZY_DELAY = 10;

/** A group of deliveries recorded in one sync, kept until every one of them has ended. */
interface Segment {
  /** Its deliveries not yet finished. */
  remaining: number;
  /** Keys of its finished lists and attempt counts, deleted with it. */
  readonly keys: string[];
}

/**
 * A journal on local disk for one process, in LevelDB (classic-level, prebuilt for common
 * platforms; loaded on first use). Each group commit is one record holding every delivery that
 * waited for it (many concurrent emits share one sync); finished marks and attempt counts are
 * written lazily, without sync, as lists per group; a group is deleted once all its deliveries
 * ended, and LevelDB compacts it away. A crash may lose the last lazy writes, so a delivery may
 * be resumed once more than needed (at least once, never lost). LevelDB's lock file keeps a
 * second process out. (A record per delivery, with its own finished and attempt keys, cost four
 * LevelDB operations per delivery: 13,000 deliveries/s; grouped, see BENCHMARKS.md.)
 *
 * @example
 * ```ts
 * const gateway = createGateway(store, { journal: new LocalJournal({ directory: './journal' }) });
 * ```
 */
export class LocalJournal implements Journal {
  private db: Level | undefined;
  private count = 0;
  private readonly maxEntries: number;
  private seq = 0;
  private readonly segments = new Map<number, Segment>();
  /** The group each unfinished delivery was recorded in. */
  private readonly segmentOf = new Map<string, number>();
  /** Deliveries waiting for the next synced group, and the emits waiting on them. */
  private recorded: JournalEntry[] = [];
  private waiters: { resolve(): void; reject(error: Error): void }[] = [];
  /** Lazy writes waiting for the next batch. */
  private finishedIds = new Map<number, string[]>();
  private attempts = new Map<string, number>();
  private deletes: string[] = [];
  private writing: Promise<void> | undefined;
  private lazyTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private failure: Error | undefined;
  private syncCount = 0;
  /** Records kept under `d/`: set aside because they could not be read. */
  private damaged = 0;
  /** Opening and reading the directory (close() waits for it, to let the directory go). */
  private loading: Promise<unknown> | undefined;
  /** See {@link LocalJournalOptions.waitForFunctions}. */
  readonly waitForFunctions: number;

  constructor(private readonly options: LocalJournalOptions) {
    optionsArgument(options, 'new LocalJournal(options)');
    if (typeof options?.directory !== 'string' || options.directory === '') {
      throw new TypeError('new LocalJournal(options): "directory" must be a non-empty string.');
    }
    this.maxEntries = options.maxEntries ?? 1_000_000;
    this.waitForFunctions = waitForFunctionsOption(
      options.waitForFunctions,
      'new LocalJournal(options)',
    );
  }

  async open(sink: JournalSink): Promise<void> {
    const loading = loadJournal(this.options.directory).then(async (loaded) => {
      if (!this.closed) return loaded;
      // Closed while it was opening: let the directory go at once.
      await loaded.db.close();
      throw new JournalUnavailableError('The journal was closed before it finished opening.');
    });
    this.loading = loading;
    const { db, contents } = await loading;
    this.db = db;
    const { groups, finished, attempts, keysOf } = contents;
    this.seq = contents.seq;
    this.damaged = contents.setAside + contents.damaged.length;
    const out: JournalEntry[] = [];
    for (const [seq, entries] of groups) {
      const open = entries.filter((e) => !finished.has(e.deliveryId));
      const keys = keysOf.get(seq) ?? [];
      if (open.length === 0) {
        this.deletes.push(`s/${seqKey(seq)}`, ...keys);
        continue;
      }
      this.segments.set(seq, { remaining: open.length, keys });
      for (const entry of open) {
        this.segmentOf.set(entry.deliveryId, seq);
        out.push({
          ...entry,
          attempts: Math.max(entry.attempts, attempts.get(entry.deliveryId) ?? 0),
        });
      }
    }
    // Lists left over from groups already gone.
    for (const [seq, keys] of keysOf) if (!groups.has(seq)) this.deletes.push(...keys);
    this.count = out.length;
    for (const report of damageReports(contents.damaged, this.options.directory)) {
      sink.report(report);
    }
    this.write();
    await sink.take(out.sort((a, b) => a.acceptedAt - b.acceptedAt));
  }

  /**
   * Records set aside because they could not be read (oldest first, at most `limit`), with their
   * bytes as found and why: for an operator to inspect, then `discardDamaged`.
   * @example
   * ```ts
   * for (const r of await journal.damagedRecords()) console.log(r.key, r.reason, r.value);
   * ```
   */
  async damagedRecords({ limit = 100 }: { limit?: number } = {}): Promise<DamagedRecord[]> {
    return listDamaged(this.openDb('read its damaged records'), limit);
  }

  /**
   * Deletes records set aside (those `ids`, from `damagedRecords`, or all of them); resolves with
   * how many it deleted.
   */
  async discardDamaged(ids?: readonly string[]): Promise<number> {
    const deleted = await discardDamaged(this.openDb('discard its damaged records'), ids);
    this.damaged = Math.max(0, this.damaged - deleted);
    return deleted;
  }

  /** The open database, or JournalUnavailableError saying it cannot `what`. */
  private openDb(what: string): Level {
    if (!this.db || this.closed) {
      throw new JournalUnavailableError(`The journal cannot ${what}: it is not open.`);
    }
    return this.db;
  }

  record(entries: readonly JournalEntry[]): Promise<void> {
    const problem = this.closed
      ? 'it is closed'
      : !this.db
        ? 'it is not open'
        : this.failure
          ? `it failed: ${this.failure.message}`
          : this.count + entries.length > this.maxEntries
            ? `it is full (${this.count} unfinished deliveries, maxEntries ${this.maxEntries})`
            : undefined;
    if (problem) {
      return Promise.reject(
        new JournalUnavailableError(
          `The journal cannot record the event: ${problem}. Nothing was accepted.`,
        ),
      );
    }
    this.count += entries.length;
    for (const entry of entries) this.recorded.push(entry);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.write();
    return done;
  }

  attempted(deliveryId: string, attempts: number): void {
    if (!this.segmentOf.has(deliveryId)) return;
    this.attempts.set(deliveryId, attempts);
    this.later();
  }

  finished(deliveryIds: readonly string[]): void {
    for (const id of deliveryIds) {
      const seq = this.segmentOf.get(id);
      if (seq === undefined) continue;
      this.segmentOf.delete(id);
      this.attempts.delete(id);
      this.count--;
      const segment = this.segments.get(seq) as Segment;
      if (--segment.remaining === 0) {
        // The whole group ended: it goes, with its lists.
        this.segments.delete(seq);
        this.finishedIds.delete(seq);
        this.deletes.push(`s/${seqKey(seq)}`, ...segment.keys);
      } else {
        (this.finishedIds.get(seq) ?? this.finishedIds.set(seq, []).get(seq))?.push(id);
      }
    }
    this.later();
  }

  size(): JournalSize {
    return {
      entries: this.count,
      damaged: this.damaged,
      ...(this.failure ? { failure: this.failure.message } : {}),
    };
  }

  /** Synced writes so far: with group commit, far fewer than the emits they recorded. */
  get syncs(): number {
    return this.syncCount;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lazyTimer);
    // Opening: it lets the directory go once it sees the journal closed.
    await this.loading?.catch(() => undefined);
    while (this.writing || this.hasPending()) {
      this.write();
      await this.writing;
    }
    await this.db?.close();
  }

  private hasPending(): boolean {
    return (
      this.recorded.length > 0 ||
      this.finishedIds.size > 0 ||
      this.attempts.size > 0 ||
      this.deletes.length > 0
    );
  }

  private later(): void {
    if (this.lazyTimer || this.closed) return;
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = undefined;
      this.write();
    }, LAZY_DELAY);
    this.lazyTimer.unref();
  }

  /** Writes what is pending in one batch, unless a batch is being written: it goes next. */
  private write(): void {
    if (this.writing || !this.db || !this.hasPending()) return;
    const ops: Op[] = [];
    const recorded = this.recorded;
    const waiters = this.waiters;
    this.recorded = [];
    this.waiters = [];
    if (recorded.length > 0) {
      const seq = ++this.seq;
      ops.push({ type: 'put', key: `s/${seqKey(seq)}`, value: JSON.stringify(recorded) });
      this.segments.set(seq, { remaining: recorded.length, keys: [] });
      for (const entry of recorded) this.segmentOf.set(entry.deliveryId, seq);
      this.syncCount++;
    }
    for (const [seq, ids] of this.finishedIds) {
      const key = `f/${seqKey(seq)}/${seqKey(++this.seq)}`;
      this.segments.get(seq)?.keys.push(key);
      ops.push({ type: 'put', key, value: JSON.stringify(ids) });
    }
    this.finishedIds.clear();
    const bySegment = new Map<number, Record<string, number>>();
    for (const [id, n] of this.attempts) {
      const seq = this.segmentOf.get(id);
      if (seq === undefined) continue;
      (bySegment.get(seq) ?? bySegment.set(seq, {}).get(seq) ?? {})[id] = n;
    }
    this.attempts.clear();
    for (const [seq, counts] of bySegment) {
      const key = `a/${seqKey(seq)}/${seqKey(++this.seq)}`;
      this.segments.get(seq)?.keys.push(key);
      ops.push({ type: 'put', key, value: JSON.stringify(counts) });
    }
    for (const key of this.deletes) ops.push({ type: 'del', key });
    this.deletes = [];
    this.writing = this.db.batch(ops, { sync: recorded.length > 0 }).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (error: unknown) => {
        this.failure = error instanceof Error ? error : new Error(describeError(error));
        this.count -= recorded.length;
        for (const entry of recorded) this.segmentOf.delete(entry.deliveryId);
        const failed = new JournalUnavailableError(
          `The journal could not write: ${describeError(error)}. Nothing was accepted.`,
          { cause: error },
        );
        for (const w of waiters) w.reject(failed);
      },
    );
    void this.writing.finally(() => {
      this.writing = undefined;
      this.write();
    });
  }
}
