import { optionsArgument } from '../model/checks';
import { inspect } from 'node:util';
import { GatewayClosedError, RevisionCompactedError, ValidationError } from '../errors';
import { wellFormedListing, wellFormedText, wellFormedTxn } from './well-formed-text';
import type {
  Compare,
  KeyValue,
  ListOptions,
  ListResult,
  Operation,
  Store,
  Watch,
  WatchChange,
  WatchListener,
  WriteOptions,
  WriteResult,
} from './store';

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * How many changes the store remembers so that a watch can resume from an older revision. A
   * watch asking for a revision older than that receives a `reset`, as etcd does after compaction.
   * @default 10000
   */
  historySize?: number;
}

interface HistoryEntry {
  readonly revision: number;
  readonly key: string;
  /** The key's state before this change; undefined when it did not exist. */
  readonly prev: KeyValue | undefined;
  readonly change: WatchChange;
}

interface Watcher {
  readonly prefix: string;
  readonly listener: WatchListener;
  /** The next revision this watcher has not been given yet. */
  nextRevision: number;
  closed: boolean;
}

/**
 * The in-process store: the default for tests, the REPL and single-process apps. It keeps the
 * whole store contract (revisions, compare-and-swap, transactions, ordered watches with a bounded
 * history) so that code tested on it behaves the same on etcd. Share one instance between several
 * gateways to model several instances over one store.
 *
 * Watch events are delivered asynchronously (in a microtask after the write), as a remote store
 * would deliver them.
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * const a = createGateway(store);
 * const b = createGateway(store); // sees a's writes
 * ```
 */
export class MemoryStore implements Store {
  readonly name = 'MemoryStore';
  private readonly data = new Map<string, KeyValue>();
  private sortedKeys: string[] | undefined = [];
  private history: HistoryEntry[] = [];
  private readonly historySize: number;
  private currentRevision = 1;
  /** Changes at or below this revision are no longer in the history. */
  private compactedRevision = 1;
  private readonly watchers = new Set<Watcher>();
  private suspended = false;
  private flushScheduled = false;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    optionsArgument(options, 'new MemoryStore(options)');
    const historySize = options.historySize ?? 10_000;
    if (!Number.isInteger(historySize) || historySize < 1) {
      throw new ValidationError(`MemoryStore: historySize must be a positive integer.`);
    }
    this.historySize = historySize;
  }

  /** The store's current revision. */
  get revision(): number {
    return this.currentRevision;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    wellFormedText(key, 'key');
    return this.data.get(key);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    wellFormedListing(prefix, options);
    const revision = options.revision ?? this.currentRevision;
    const past = this.changedSince(prefix, revision);
    const all = (this.sortedKeys ??= [...this.data.keys()].sort());
    // One page costs its own length (and the changes since `revision`), never the whole prefix:
    // a paged listing of N keys stays O(N), not O(N^2 / page).
    const from = options.after === undefined ? prefix : options.after;
    const strict = options.after !== undefined;
    const extra = [...past.keys()].filter((k) => !this.data.has(k)).sort();
    let i = lowerBound(all, from, strict);
    let j = lowerBound(extra, from, strict);
    const limit = options.limit ?? Infinity;
    const items: KeyValue[] = [];
    let more = false;
    for (;;) {
      const a = i < all.length && all[i].startsWith(prefix) ? all[i] : undefined;
      const b = j < extra.length && extra[j].startsWith(prefix) ? extra[j] : undefined;
      if (a === undefined && b === undefined) break;
      const key = b === undefined || (a !== undefined && a < b) ? (i++, a) : (j++, b);
      const value = past.has(key as string)
        ? past.get(key as string)
        : this.data.get(key as string);
      if (value === undefined) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(value);
    }
    return { items, revision, more };
  }

  async put(key: string, value: string, options: WriteOptions = {}): Promise<WriteResult> {
    return this.txn(
      options.ifModRevision === undefined ? [] : [{ key, modRevision: options.ifModRevision }],
      [{ type: 'put', key, value }],
    );
  }

  async delete(key: string, options: WriteOptions = {}): Promise<WriteResult> {
    return this.txn(
      options.ifModRevision === undefined ? [] : [{ key, modRevision: options.ifModRevision }],
      [{ type: 'delete', key }],
    );
  }

  async txn(compares: readonly Compare[], operations: readonly Operation[]): Promise<WriteResult> {
    this.assertOpen();
    wellFormedTxn(compares, operations);
    if (!compares.every((c) => this.holds(c))) {
      return { succeeded: false, revision: this.currentRevision };
    }
    // In order: a delete counts if the key exists at that point (a put earlier in the batch too).
    const exists = new Map<string, boolean>();
    const writes = operations.filter((op) => {
      const counts = op.type === 'put' || (exists.get(op.key) ?? this.data.has(op.key));
      exists.set(op.key, op.type === 'put');
      return counts;
    });
    if (writes.length === 0) return { succeeded: true, revision: this.currentRevision };
    const revision = ++this.currentRevision;
    for (const op of writes) this.apply(op, revision);
    this.trimHistory();
    this.scheduleFlush();
    return { succeeded: true, revision };
  }

  watch(prefix: string, fromRevision: number, listener: WatchListener): Watch {
    this.assertOpen();
    wellFormedText(prefix, 'prefix');
    const watcher: Watcher = { prefix, listener, nextRevision: fromRevision, closed: false };
    this.watchers.add(watcher);
    this.scheduleFlush();
    return {
      close: () => {
        watcher.closed = true;
        this.watchers.delete(watcher);
      },
    };
  }

  /**
   * Forgets the change history up to `revision` (default: all of it), as etcd's compaction does.
   * A watch that has not yet been given those changes receives a `reset`. For tests.
   */
  compact(revision: number = this.currentRevision): void {
    this.compactedRevision = Math.max(
      this.compactedRevision,
      Math.min(revision, this.currentRevision),
    );
    this.history = this.history.filter((e) => e.revision > this.compactedRevision);
  }

  /**
   * Holds back watch delivery, as a lost connection to a remote store would, until
   * {@link MemoryStore.resumeWatches}. Writes still succeed meanwhile. For tests.
   */
  suspendWatches(): void {
    this.suspended = true;
  }

  /** Delivers what {@link MemoryStore.suspendWatches} held back, or a `reset` if it was compacted. */
  resumeWatches(): void {
    this.suspended = false;
    this.scheduleFlush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of this.watchers) watcher.closed = true;
    this.watchers.clear();
  }

  /** What the REPL prints: the revision and the number of keys. */
  [inspect.custom](): string {
    return `MemoryStore { revision: ${this.currentRevision}, keys: ${this.data.size}${this.closed ? ', closed' : ''} }`;
  }

  private assertOpen(): void {
    if (this.closed) throw new GatewayClosedError('MemoryStore is closed.');
  }

  private holds(c: Compare): boolean {
    if ('prefix' in c) {
      for (const [key, kv] of this.data) {
        if (key.startsWith(c.prefix) && kv.modRevision > c.maxModRevision) return false;
      }
      return true;
    }
    if ('exists' in c) return this.data.has(c.key) === c.exists;
    return (this.data.get(c.key)?.modRevision ?? 0) === c.modRevision;
  }

  private apply(op: Operation, revision: number): void {
    const prev = this.data.get(op.key);
    let change: WatchChange;
    if (op.type === 'put') {
      const kv: KeyValue = {
        key: op.key,
        value: op.value,
        createRevision: prev?.createRevision ?? revision,
        modRevision: revision,
      };
      if (!prev) this.sortedKeys = undefined;
      this.data.set(op.key, kv);
      change = { type: 'put', kv };
    } else {
      this.data.delete(op.key);
      this.sortedKeys = undefined;
      change = { type: 'delete', key: op.key, modRevision: revision };
    }
    this.history.push({ revision, key: op.key, prev, change });
  }

  private trimHistory(): void {
    const excess = this.history.length - this.historySize;
    if (excess <= 0) return;
    // Never split one revision's changes: drop whole revisions only.
    let cut = excess;
    const boundary = this.history[cut - 1].revision;
    while (cut < this.history.length && this.history[cut].revision === boundary) cut++;
    this.compactedRevision = Math.max(this.compactedRevision, boundary);
    this.history = this.history.slice(cut);
  }

  /** The keys under `prefix`, sorted, and their pairs as they were at `revision`. */
  /**
   * The keys under `prefix` changed after `revision`, each with its value at `revision`
   * (undefined where it did not exist then): what a listing at `revision` reads in place of the
   * current data. Bounded by the history, not by the store.
   */
  private changedSince(prefix: string, revision: number): Map<string, KeyValue | undefined> {
    if (revision > this.currentRevision) {
      throw new ValidationError(`MemoryStore: revision ${revision} is in the future.`);
    }
    const past = new Map<string, KeyValue | undefined>();
    if (revision === this.currentRevision) return past;
    if (revision < this.compactedRevision) {
      throw new RevisionCompactedError(
        `MemoryStore: revision ${revision} has been compacted.`,
        this.compactedRevision,
      );
    }
    // Newest first: the value a key had at `revision` is the `prev` of its oldest later change.
    for (let i = this.history.length - 1; i >= 0 && this.history[i].revision > revision; i--) {
      const { key, prev } = this.history[i];
      if (key.startsWith(prefix)) past.set(key, prev);
    }
    return past;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.suspended) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (!this.suspended) for (const watcher of this.watchers) this.flush(watcher);
    });
  }

  private flush(watcher: Watcher): void {
    if (watcher.closed || watcher.nextRevision > this.currentRevision) return;
    if (watcher.nextRevision <= this.compactedRevision) {
      watcher.closed = true;
      this.watchers.delete(watcher);
      watcher.listener({
        type: 'reset',
        reason: `revision ${watcher.nextRevision} has been compacted (oldest kept: ${this.compactedRevision + 1})`,
      });
      return;
    }
    const start = lowerBoundRevision(this.history, watcher.nextRevision);
    const changes: WatchChange[] = [];
    for (let i = start; i < this.history.length; i++) {
      if (this.history[i].key.startsWith(watcher.prefix)) changes.push(this.history[i].change);
    }
    watcher.nextRevision = this.currentRevision + 1;
    watcher.listener({ type: 'changes', revision: this.currentRevision, changes });
  }
}

/** Index of the first key `>= key` (or `> key` when `strict`) in a sorted array. */
function lowerBound(sorted: string[], key: string, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < key || (strict && sorted[mid] === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBoundRevision(history: HistoryEntry[], revision: number): number {
  let lo = 0;
  let hi = history.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (history[mid].revision < revision) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
