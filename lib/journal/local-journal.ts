import { JournalUnavailableError } from '../errors';
import { optionsArgument } from '../model/checks';
import { describeError } from '../model/describe-error';
import { damageReports, discardDamaged, listDamaged, type DamagedRecord } from './damaged-records';
import type { Journal, JournalEntry, JournalSink, JournalSize } from './journal';
import { seqKey, type Level, type Op } from './level-layout';
import { loadJournal } from './local-journal-reader';
import { OrderedWrites } from './ordered-writes';
import { encodeForGroup, PendingWave, WAVE_OVERHEAD } from './pending-wave';
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
   * Most bytes the journal's records may hold (each group of deliveries recorded in one sync is
   * kept, with its finished and attempt lists, until every delivery in it has ended); past it,
   * `emit` rejects with JournalUnavailableError, as at `maxEntries`, until deliveries end. LevelDB
   * may keep deleted records on disk a while longer, until it compacts them.
   * @default Infinity
   */
  maxBytes?: number;
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

/**
 * Synced waves in flight at most: emits made while a wave is syncing (or while lazy lists are
 * being written) are written at the end of their turn, and LevelDB syncs them as soon as the
 * earlier write is done, without waiting for this thread to see that write's callback (which
 * waits behind whatever the loop is running: HTTP responses, deliveries). A third would queue
 * behind the same sync. (Splitting producers into two waves that take turns on the disk was
 * measured and not kept: two syncs per wave, ~40% more CPU per emit, fewer emits/s.)
 */
const WAVES_IN_FLIGHT = 2;

/** A group of deliveries recorded in one sync, kept until every one of them has ended. */
interface Segment {
  /** Its deliveries not yet finished. */
  remaining: number;
  /** Keys of its finished lists and attempt counts, deleted with it. */
  readonly keys: string[];
  /** Bytes of its record and lists. */
  bytes: number;
}

/** A finished or attempts list a batch adds to a group, and its bytes. */
interface Listed {
  readonly group: number;
  readonly bytes: number;
}

/** A record's value and its size in bytes. */
function encoded(value: unknown): { value: string; bytes: number } {
  const text = JSON.stringify(value);
  return { value: text, bytes: Buffer.byteLength(text) };
}

/**
 * A journal on local disk for one process, in LevelDB (classic-level, prebuilt for common
 * platforms; loaded on first use). Each group commit is one record holding every delivery that
 * waited for it (many concurrent emits share one sync); finished marks and attempt counts are
 * written lazily, without sync, as lists per group; a group is deleted once all its deliveries
 * ended, and LevelDB compacts it away. A crash may lose the last lazy writes, so a delivery may
 * be resumed once more than needed (at least once, never lost). LevelDB's lock file keeps a
 * second process out. (A record per delivery, with its own finished and attempt keys, cost four
 * LevelDB operations per delivery: 13,000 deliveries/s; grouped, see BENCHMARKS.md.) The
 * deliveries a sync released start once the next wave's write is issued (`afterWrite`), so that
 * their work overlaps its sync.
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
  private readonly maxBytes: number;
  /** Bytes of the records of unfinished groups, and of the deliveries waiting to be written. */
  private bytes = 0;
  private seq = 0;
  private readonly segments = new Map<number, Segment>();
  /** The group each unfinished delivery was recorded in. */
  private readonly segmentOf = new Map<string, number>();
  /** Deliveries waiting for the next synced group, and the emits waiting on them. */
  private readonly wave = new PendingWave();
  /** Lazy writes waiting for the next batch. */
  private finishedIds = new Map<number, string[]>();
  private attempts = new Map<string, number>();
  private deletes: string[] = [];
  /** Batches being written, completed in the order they were issued. */
  private readonly inFlight = new OrderedWrites();
  /** The write of the current wave of emits, due once this turn's emits have been recorded. */
  private due: NodeJS.Immediate | undefined;
  /** The write of the emits the last sync released, due once they have run on (a tick). */
  private tickDue = false;
  /** WAVES_IN_FLIGHT (a field, so that an A/B probe can set it to 1 in one process). */
  private readonly wavesInFlight = WAVES_IN_FLIGHT;
  /**
   * Whether the deliveries a sync released start after the next wave's write (see `afterWrite`);
   * a field, so that an A/B probe can set it to false in one process.
   */
  private readonly startsAfterWrite = true;
  /** The deliveries of released emits, waiting for the write of the next wave to be issued. */
  private starts: (() => void)[] = [];
  private startsDue = false;
  private lazyTimer: NodeJS.Timeout | undefined;
  /**
   * The lazy timer fired: finished marks, attempt counts and deletes go with the next batch.
   * Until then they wait (at most LAZY_DELAY), rather than taking a batch of their own between a
   * sync and the next wave's write, or riding each wave (most of them are deleted before then:
   * a delivery's attempt count once it finished, a group's finished marks once it all ended).
   */
  private listsDue = false;
  /** Whether lists wait for `listsDue` (a field, so that an A/B probe can set it to false). */
  private readonly listsOnTimer = true;
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
    this.maxBytes = options.maxBytes ?? Infinity;
    if (typeof this.maxBytes !== 'number' || !(this.maxBytes > 0)) {
      throw new TypeError('new LocalJournal(options): "maxBytes" must be a positive number.');
    }
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
    const { groups, finished, attempts, keysOf, bytesOf } = contents;
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
      const bytes = bytesOf.get(seq) ?? 0;
      this.bytes += bytes;
      this.segments.set(seq, { remaining: open.length, keys, bytes });
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
    this.listsDue = true; // the leftovers go at once
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
    // Encoded now, to know their bytes before accepting them (the group's record joins them).
    const encoded = encodeForGroup(entries);
    const { bytes } = encoded;
    const problem = this.closed
      ? 'it is closed'
      : !this.db
        ? 'it is not open'
        : this.failure
          ? `it failed: ${this.failure.message}`
          : this.count + entries.length > this.maxEntries
            ? `it is full (${this.count} unfinished deliveries, maxEntries ${this.maxEntries})`
            : this.bytes + bytes > this.maxBytes
              ? bytes > this.maxBytes
                ? `the event's deliveries take ${bytes} bytes, more than maxBytes ${this.maxBytes}`
                : `it is full (${this.bytes} bytes, maxBytes ${this.maxBytes})`
              : undefined;
    if (problem) {
      return Promise.reject(
        new JournalUnavailableError(
          `The journal cannot record the event: ${problem}. Nothing was accepted.`,
        ),
      );
    }
    this.count += entries.length;
    this.bytes += bytes;
    const done = this.wave.add(entries, encoded);
    this.writeSoon();
    return done;
  }

  /**
   * Runs `start` (the deliveries of an emit whose wave was synced) once the producers that sync
   * released have emitted again and their wave's write was issued: a tick queued after the one
   * that writes the wave (see the write's callback). Their work (a local handler, an HTTP
   * request, finished marks) then runs while that wave syncs, instead of between the two syncs,
   * where the disk waits for this thread.
   */
  afterWrite(start: () => void): void {
    if (!this.startsAfterWrite) return start();
    this.starts.push(start);
    if (this.startsDue) return;
    this.startsDue = true;
    process.nextTick(() => {
      this.startsDue = false;
      const starts = this.starts;
      this.starts = [];
      for (const run of starts) run();
    });
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
        this.bytes -= segment.bytes;
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
      bytes: this.bytes,
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
    clearImmediate(this.due);
    this.due = undefined;
    // Opening: it lets the directory go once it sees the journal closed.
    await this.loading?.catch(() => undefined);
    while (this.db && (this.inFlight.size > 0 || this.hasPending())) {
      this.write();
      await this.inFlight.idle();
    }
    const db = this.db;
    this.db = undefined;
    await db?.close();
  }

  private hasPending(): boolean {
    return this.wave.size > 0 || this.listsWaiting();
  }

  /** Finished marks, attempt counts or deletes waiting to be written. */
  private listsWaiting(): boolean {
    return this.finishedIds.size > 0 || this.attempts.size > 0 || this.deletes.length > 0;
  }

  private later(): void {
    // Due already: what is added meanwhile goes with them; the next timer starts after that write.
    if (this.lazyTimer || this.listsDue || this.closed) return;
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = undefined;
      this.listsDue = true;
      this.write();
    }, LAZY_DELAY);
    this.lazyTimer.unref();
  }

  /**
   * Writes the emits of this turn together, once the turn's callbacks have run (an emit arriving
   * while the journal is idle would otherwise go to disk alone, and the rest of its turn in a
   * second sync).
   */
  private writeSoon(): void {
    if (this.due || this.tickDue || this.inFlight.size >= this.wavesInFlight) return;
    this.due = setImmediate(() => this.write());
  }

  /**
   * Writes the next wave once the emits the last sync resolved have run on: called from that
   * sync's promise callbacks, a tick runs once every microtask they started has run, so producers
   * that emit again as soon as their last emit resolved join this wave (written at once, the
   * first went to disk alone and the rest in a second sync). No turn waits: the HTTP responses
   * and timers of the turn are not made to wait for the next wave.
   */
  private writeWave(): void {
    if (this.tickDue) return;
    this.tickDue = true;
    process.nextTick(() => {
      this.tickDue = false;
      this.write();
    });
  }

  /**
   * Writes what is pending in one batch: a wave while fewer than WAVES_IN_FLIGHT are in flight
   * (it goes next otherwise), lazy lists alone only when nothing is.
   */
  private write(): void {
    clearImmediate(this.due);
    this.due = undefined;
    if (!this.db) return;
    // Nothing left to write (the leftovers at open, or lists that went already): the next list
    // starts the timer again.
    if (this.listsDue && !this.listsWaiting()) this.listsDue = false;
    const lists = (this.listsDue || this.closed || !this.listsOnTimer) && this.listsWaiting();
    if (this.wave.size === 0 && !lists) return;
    if (this.inFlight.size >= (this.wave.size > 0 ? this.wavesInFlight : 1)) return;
    const ops: Op[] = [];
    const wave = this.wave.take();
    const seq = wave ? ++this.seq : 0;
    if (wave) {
      ops.push({ type: 'put', key: `s/${seqKey(seq)}`, value: wave.value });
      this.segments.set(seq, { remaining: wave.ids.length, keys: [], bytes: wave.bytes });
      this.bytes += WAVE_OVERHEAD; // the group's frame (record() counted the rest)
      for (const id of wave.ids) this.segmentOf.set(id, seq);
      this.syncCount++;
    }
    /** The lists this batch adds to groups, counted in their bytes: given back if it fails. */
    const listed: Listed[] = [];
    if (lists) this.lists(ops, listed);
    this.inFlight.add(this.db.batch(ops, { sync: wave !== undefined }), (failed, error) => {
      if (wave && !failed && this.startsAfterWrite) {
        // The next wave's write first (a tick queued before anything the settled emits do), then
        // their deliveries (`afterWrite`: a later tick).
        this.writeWave();
        wave.settle();
      } else if (failed) {
        this.failure = error instanceof Error ? error : new Error(describeError(error));
        // Its lists are not on disk: their bytes go back (their keys stay, deleted with the group).
        for (const { group, bytes } of listed) {
          const segment = this.segments.get(group);
          if (!segment) continue; // ended meanwhile: its bytes went with it
          segment.bytes -= bytes;
          this.bytes -= bytes;
        }
        if (wave) {
          this.count -= wave.ids.length;
          if (this.segments.delete(seq)) this.bytes -= wave.bytes;
          for (const id of wave.ids) this.segmentOf.delete(id);
          wave.settle(
            new JournalUnavailableError(
              `The journal could not write: ${describeError(error)}. Nothing was accepted.`,
              { cause: error },
            ),
          );
        }
      } else {
        wave?.settle();
      }
      // After the first step of what the settled emits started (a delivery's start, its attempt).
      queueMicrotask(() => {
        if (this.wave.size > 0) this.writeWave();
        else this.write();
      });
    });
  }

  /**
   * Adds the finished marks, attempt counts and deletes waiting to `ops` (lists counted in their
   * groups' bytes, noted in `listed`).
   */
  private lists(ops: Op[], listed: Listed[]): void {
    this.listsDue = false;
    for (const [group, finished] of this.finishedIds) {
      const key = `f/${seqKey(group)}/${seqKey(++this.seq)}`;
      this.list(group, key, finished, ops, listed);
    }
    this.finishedIds.clear();
    const bySegment = new Map<number, Record<string, number>>();
    for (const [id, n] of this.attempts) {
      const seq = this.segmentOf.get(id);
      if (seq === undefined) continue;
      (bySegment.get(seq) ?? bySegment.set(seq, {}).get(seq) ?? {})[id] = n;
    }
    this.attempts.clear();
    for (const [group, counts] of bySegment) {
      const key = `a/${seqKey(group)}/${seqKey(++this.seq)}`;
      this.list(group, key, counts, ops, listed);
    }
    for (const key of this.deletes) ops.push({ type: 'del', key });
    this.deletes = [];
  }

  /** Adds a group's finished or attempts list to the batch, counted in the group's bytes. */
  private list(group: number, key: string, value: unknown, ops: Op[], listed: Listed[]): void {
    const record = encoded(value);
    const segment = this.segments.get(group);
    if (segment) {
      segment.keys.push(key);
      segment.bytes += record.bytes;
      this.bytes += record.bytes;
      listed.push({ group, bytes: record.bytes });
    }
    ops.push({ type: 'put', key, value: record.value });
  }
}
