import { JournalUnavailableError } from '../errors';
import { optionsArgument } from '../model/checks';
import { describeError } from '../model/describe-error';
import type { Journal, JournalEntry, JournalSize } from './journal';

/** Options of {@link LocalJournal}. */
export interface LocalJournalOptions {
  /** The journal's directory: created when missing, locked while open (one process at a time). */
  directory: string;
  /**
   * Most unfinished deliveries; past it, `emit` rejects with JournalUnavailableError.
   * @default 1000000
   */
  maxEntries?: number;
}

/** What the journal uses of classic-level (LevelDB). */
interface Level {
  open(): Promise<void>;
  close(): Promise<void>;
  batch(
    ops: { type: 'put' | 'del'; key: string; value?: string }[],
    options?: { sync?: boolean },
  ): Promise<void>;
  iterator(): AsyncIterable<[string, string]>;
}

type Op = { type: 'put' | 'del'; key: string; value?: string };

/** How long attempt counts and finished marks may wait before they are written, in ms. */
const LAZY_DELAY = 10;

/**
 * A journal on local disk for one process, in LevelDB (classic-level, prebuilt for common
 * platforms; loaded on first use). Recorded deliveries are written with `sync`, many concurrent
 * emits sharing one sync (group commit: while one batch syncs, the next gathers). Attempt counts
 * and finished marks are written lazily without sync: a crash may lose the last ones, so a
 * delivery may be resumed once more than needed (at least once, never lost). Finished deliveries
 * are deleted, and LevelDB compacts them away. LevelDB's lock file keeps a second process out.
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
  /** Synced puts waiting for the next batch, and the emits waiting on them. */
  private synced: Op[] = [];
  private waiters: { resolve(): void; reject(error: Error): void }[] = [];
  /** Unsynced writes (attempts, finished marks) waiting for the next batch. */
  private lazy: Op[] = [];
  private writing: Promise<void> | undefined;
  private lazyTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private failure: Error | undefined;
  private syncCount = 0;

  constructor(private readonly options: LocalJournalOptions) {
    optionsArgument(options, 'new LocalJournal(options)');
    if (typeof options?.directory !== 'string' || options.directory === '') {
      throw new TypeError('new LocalJournal(options): "directory" must be a non-empty string.');
    }
    this.maxEntries = options.maxEntries ?? 1_000_000;
  }

  async open(): Promise<JournalEntry[]> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
    const { ClassicLevel } = require('classic-level') as {
      ClassicLevel: new (dir: string, options: { valueEncoding: string }) => Level;
    };
    const db = new ClassicLevel(this.options.directory, { valueEncoding: 'utf8' });
    try {
      await db.open();
    } catch (error) {
      const locked = /lock/i.test(describeError((error as Error)?.cause ?? error));
      throw new JournalUnavailableError(
        locked
          ? `The journal at ${this.options.directory} is in use by another process (its directory is locked).`
          : `The journal at ${this.options.directory} could not be opened: ${describeError(error)}`,
        { cause: error },
      );
    }
    this.db = db;
    const entries = new Map<string, JournalEntry>();
    const attempts = new Map<string, number>();
    for await (const [key, value] of db.iterator()) {
      if (key.startsWith('d/')) entries.set(key.slice(2), JSON.parse(value) as JournalEntry);
      else if (key.startsWith('a/')) attempts.set(key.slice(2), Number(value));
    }
    const out: JournalEntry[] = [];
    for (const [id, entry] of entries) {
      out.push({ ...entry, attempts: Math.max(entry.attempts, attempts.get(id) ?? 0) });
    }
    this.count = out.length;
    return out.sort((a, b) => a.acceptedAt - b.acceptedAt);
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
    for (const entry of entries) {
      this.synced.push({ type: 'put', key: `d/${entry.deliveryId}`, value: JSON.stringify(entry) });
    }
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.write();
    return done;
  }

  attempted(deliveryId: string, attempts: number): void {
    this.later({ type: 'put', key: `a/${deliveryId}`, value: String(attempts) });
  }

  finished(deliveryIds: readonly string[]): void {
    for (const id of deliveryIds) {
      this.count--;
      this.later({ type: 'del', key: `d/${id}` });
      this.later({ type: 'del', key: `a/${id}` });
    }
  }

  size(): JournalSize {
    return { entries: this.count };
  }

  /** Synced writes so far: with group commit, far fewer than the emits they recorded. */
  get syncs(): number {
    return this.syncCount;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lazyTimer);
    while (this.writing || this.lazy.length > 0 || this.synced.length > 0) {
      this.write();
      await this.writing;
    }
    await this.db?.close();
  }

  private later(op: Op): void {
    if (!this.db) return;
    this.lazy.push(op);
    if (this.lazy.length >= 1000) this.write();
    else if (!this.lazyTimer) {
      this.lazyTimer = setTimeout(() => {
        this.lazyTimer = undefined;
        this.write();
      }, LAZY_DELAY);
      this.lazyTimer.unref();
    }
  }

  /** Writes what is pending in one batch, unless a batch is being written: it goes next. */
  private write(): void {
    if (this.writing || !this.db) return;
    if (this.synced.length === 0 && this.lazy.length === 0) return;
    const ops = this.synced.concat(this.lazy);
    const recorded = this.synced.length;
    const sync = recorded > 0;
    if (sync) this.syncCount++;
    const waiters = this.waiters;
    this.synced = [];
    this.lazy = [];
    this.waiters = [];
    this.writing = this.db.batch(ops, { sync }).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (error: unknown) => {
        this.failure = error instanceof Error ? error : new Error(describeError(error));
        this.count -= recorded;
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
