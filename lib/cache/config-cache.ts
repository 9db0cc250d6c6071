import { describeError } from '../model/describe-error';
import { exponentialDelay } from '../model/exponential-delay';
import { RewatchPacer } from '../model/rewatch-pacer';
import { MAX_TIMER_MS, positiveOption } from '../model/checks';
import { EventEmitter } from 'eventemitter3';
import { GatewayClosedError, StoreUnavailableError } from '../errors';
import type { KeyValue, Store, Watch, WatchChange, WatchEvent } from '../store/store';
import { valueFingerprint } from './value-fingerprint';

/** One key's change as the cache applied it: `kv` is the new state (absent: deleted). */
export interface CacheChange {
  readonly key: string;
  readonly kv: KeyValue | undefined;
  readonly prev: KeyValue | undefined;
}

/** Options for {@link ConfigCache}. */
export interface ConfigCacheOptions {
  /** Pairs per page of the initial listing and of every relisting. @default 10000 */
  pageSize?: number;
  /**
   * Sees the new or changed pairs of each page of a listing as it arrives, while the next page is
   * being fetched: a consumer that decodes values can do it here, overlapped with the store's
   * work, instead of after the whole listing. Must not throw.
   */
  onPage?: (items: readonly KeyValue[]) => void;
  /** Milliseconds between anti-entropy relistings; 0 turns them off. @default 300000 */
  resyncInterval?: number;
  /**
   * First delay before retrying a failed listing, and the cap of the first wait before relisting
   * after watches that keep ending at once (a full-jitter backoff, reset by a watch that applies a
   * change); both double up to `maxRetryDelay`. @default 100
   */
  retryDelay?: number;
  /**
   * The longest of those waits; a watch that stays up this long counts as working (the backoff
   * resets and `lastError` clears, even if no change came meanwhile). @default 5000
   */
  maxRetryDelay?: number;
  /**
   * Keep each key's value after notifying it. A consumer that keeps its own decoded copy (the
   * gateway's catalog) turns this off to hold each value once; `get()` then answers `value: ''`.
   * @default true
   */
  retainValues?: boolean;
}

/** Events of a {@link ConfigCache}. */
export interface ConfigCacheEvents {
  /**
   * A batch was applied, one change per key that it changed (the key before the batch, and
   * after); `revision` is the cache's new revision.
   */
  changes: [changes: CacheChange[], revision: number];
  /** The cache relisted the store (after a reset, a watch error, or for anti-entropy). */
  resync: [reason: string, repaired: number];
  /**
   * A listing failed, or a watch failed; the cache keeps serving its last good state and retries.
   * Watches that keep ending at once are reported when their count in a row reaches 2, 4, 8...
   * (the error names the count), not once per retry.
   */
  error: [error: Error];
}

/** One watch of the cache, as the cache sees it. */
interface WatchRun {
  readonly openedAt: number;
  /** It applied at least one change. */
  applied: boolean;
  /** It ended; its later events are ignored. */
  over: boolean;
}

interface Waiter {
  readonly revision: number;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A local copy of every key under a prefix, kept in step with the store: one listing, then one
 * watch over the whole prefix from the listing's revision + 1. Batches are applied atomically in
 * revision order; anything not newer than what is applied is dropped; a reset or a watch error
 * leads to a relisting diffed against the copy (deletes missed meanwhile become synthetic
 * deletes). Until the store answers again the last good copy keeps being served.
 */
export class ConfigCache extends EventEmitter<ConfigCacheEvents> {
  private readonly data = new Map<string, KeyValue>();
  /**
   * Without `retainValues`, each key's {@link valueFingerprint}: a relisting compares it, since
   * an equal modRevision proves nothing once the store was replaced (restarted empty, restored)
   * and written past the old revision.
   */
  private readonly fingerprints = new Map<string, number>();
  private appliedRevision = 0;
  private watch: Watch | undefined;
  private readonly waiters: Waiter[] = [];
  private readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: Error) => void;
  private hasListed = false;
  private closed = false;
  private syncing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private readonly pageSize: number;
  private readonly resyncInterval: number;
  private readonly retryDelay: number;
  private readonly maxRetryDelay: number;
  private readonly retainValues: boolean;
  private readonly onPage: ((items: readonly KeyValue[]) => void) | undefined;
  private failures = 0;
  private readonly pacer: RewatchPacer;
  private resyncs = 0;
  private lastFailure: string | undefined;
  /** Stops the open watch's proof timer ({@link RewatchPacer.opened}). */
  private cancelProof: () => void = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly prefix: string,
    options: ConfigCacheOptions = {},
  ) {
    super();
    // Checked here too (the class is public): a NaN, negative or past-2^31 delay would make a
    // timer fire at once, and the cache relist in a tight loop.
    this.pageSize = positiveOption(options.pageSize ?? 10_000, 'pageSize');
    this.onPage = options.onPage;
    const resyncInterval = options.resyncInterval ?? 300_000;
    this.resyncInterval =
      resyncInterval === 0 ? 0 : positiveOption(resyncInterval, 'resyncInterval', MAX_TIMER_MS);
    this.retryDelay = positiveOption(options.retryDelay ?? 100, 'retryDelay', MAX_TIMER_MS);
    this.maxRetryDelay = positiveOption(
      options.maxRetryDelay ?? 5000,
      'maxRetryDelay',
      MAX_TIMER_MS,
    );
    this.retainValues = options.retainValues ?? true;
    this.pacer = new RewatchPacer({ initialDelay: this.retryDelay, maxDelay: this.maxRetryDelay });
    this.readyPromise = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A gateway nobody awaits must not crash the process with an unhandled rejection on close.
    this.readyPromise.catch(() => undefined);
  }

  /** Starts the first listing. Called once, by the owner. */
  start(): void {
    void this.resync('initial listing');
    if (this.resyncInterval > 0) {
      this.resyncTimer = setInterval(() => void this.resync('anti-entropy'), this.resyncInterval);
      this.resyncTimer.unref();
    }
  }

  /** Resolves once the first listing is applied. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** True once the first listing is applied. */
  get isReady(): boolean {
    return this.hasListed;
  }

  /** The highest store revision the copy reflects. */
  get revision(): number {
    return this.appliedRevision;
  }

  /** When the store was last heard from (ms since the epoch), 0 if never. */
  get lastHeardAt(): number {
    return this.lastHeard;
  }

  /** How many times the cache relisted after its first listing. */
  get resyncCount(): number {
    return this.resyncs;
  }

  /**
   * The last failure seen (a failed listing or a watch error), if any since the last success: a
   * listing, a watch that applied a change, or one that stayed up `maxRetryDelay`.
   */
  get lastError(): string | undefined {
    return this.lastFailure;
  }

  /** True while a watch is established. */
  get watching(): boolean {
    return this.watch !== undefined;
  }

  /** The cached pair of a key, or undefined. */
  get(key: string): KeyValue | undefined {
    return this.data.get(key);
  }

  /** Every cached pair. */
  entries(): IterableIterator<KeyValue> {
    return this.data.values();
  }

  /** How many keys the cache holds. */
  get size(): number {
    return this.data.size;
  }

  /** Resolves once the copy reflects `revision` (read-your-writes). */
  waitFor(revision: number): Promise<void> {
    if (this.closed) return Promise.reject(new GatewayClosedError('The gateway is closed.'));
    if (this.appliedRevision >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ revision, resolve, reject }));
  }

  /**
   * Relists the store and diffs it against the copy, then watches from the listing's revision.
   * Concurrent calls share one relisting.
   */
  resync(reason: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.syncing ??= this.relist(reason).finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Stops watching; pending waiters and `ready()` reject. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelProof();
    this.watch?.close();
    this.watch = undefined;
    clearTimeout(this.retryTimer);
    clearInterval(this.resyncTimer);
    const error = new GatewayClosedError('The gateway is closed.');
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    if (!this.hasListed) this.rejectReady(error);
  }

  private async relist(reason: string): Promise<void> {
    // A relisting asked for meanwhile (anti-entropy, a caller) makes a pending retry needless.
    clearTimeout(this.retryTimer);
    this.cancelProof();
    this.watch?.close();
    this.watch = undefined;
    let listing: Map<string, KeyValue>;
    let revision: number;
    try {
      ({ listing, revision } = await this.listAll());
    } catch (error) {
      if (this.closed) return;
      const delay = exponentialDelay(this.failures++, {
        initialDelay: this.retryDelay,
        maxDelay: this.maxRetryDelay,
        jitter: false,
      });
      const err = new StoreUnavailableError(
        `Listing the store failed (${reason}: ${describeError(error)}); serving the last good configuration, retrying in ${delay} ms.`,
        { cause: error },
      );
      this.lastFailure = err.message;
      this.emit('error', err);
      this.retryAfter(reason, delay);
      return;
    }
    if (this.closed) return;
    this.failures = 0;
    // Listings that succeed between watches that keep failing do not make the store healthy.
    if (this.pacer.inARow < 2) this.lastFailure = undefined;
    const wentBackwards = revision < this.appliedRevision;
    const changes = this.diff(listing, wentBackwards);
    this.commit(changes, revision);
    if (wentBackwards) this.releaseAllWaiters();
    if (!this.hasListed) {
      this.hasListed = true;
      this.resolveReady();
    } else {
      this.resyncs++;
      this.emit('resync', reason, changes.length);
    }
    this.openWatch(revision + 1);
  }

  private openWatch(fromRevision: number): void {
    const run: WatchRun = { openedAt: Date.now(), applied: false, over: false };
    const watch = this.store.watch(this.prefix, fromRevision, (event) => this.onWatch(event, run));
    // A store may end the watch inside the call: it is over before it was handed back.
    if (run.over) {
      watch.close();
      return;
    }
    this.watch = watch;
    // A quiet watch that stays up is working too: a failure from before it no longer stands.
    this.cancelProof = this.pacer.opened(() => {
      if (!run.over && !this.closed) this.lastFailure = undefined;
    });
  }

  /** Relists after `delay` ms (0: at once, unless a relisting is running: just after it). */
  private retryAfter(reason: string, delay: number): void {
    clearTimeout(this.retryTimer);
    if (delay === 0 && !this.syncing) {
      void this.resync(reason);
      return;
    }
    this.retryTimer = setTimeout(() => void this.resync(reason), delay);
    this.retryTimer.unref();
  }

  /**
   * Lists every key at one revision. The next page is asked for before this one is handled, so
   * that the store's work and the consumer's decoding (`onPage`) overlap.
   */
  private async listAll(): Promise<{ listing: Map<string, KeyValue>; revision: number }> {
    const listing = new Map<string, KeyValue>();
    let page = await this.store.list(this.prefix, { limit: this.pageSize });
    const revision = page.revision;
    for (;;) {
      const { items } = page;
      const next =
        page.more && items.length > 0
          ? this.store.list(this.prefix, {
              limit: this.pageSize,
              after: items[items.length - 1].key,
              revision,
            })
          : undefined;
      // Awaited below; until then a failure must not count as unhandled.
      next?.catch(() => undefined);
      for (const kv of items) listing.set(kv.key, kv);
      if (this.onPage) {
        const fresh = items.filter((kv) => this.differs(this.data.get(kv.key), kv));
        if (fresh.length > 0) this.onPage(fresh);
      }
      if (!next) break;
      page = await next;
    }
    return { listing, revision };
  }

  /**
   * What changed between the copy and a listing: a key whose modification revision or value
   * differs, or everything after the revision went backwards (another store).
   */
  private diff(listing: Map<string, KeyValue>, everything: boolean): CacheChange[] {
    const changes: CacheChange[] = [];
    for (const [key, prev] of this.data) {
      if (!listing.has(key)) changes.push({ key, kv: undefined, prev });
    }
    for (const [key, kv] of listing) {
      const prev = this.data.get(key);
      if (everything || this.differs(prev, kv)) changes.push({ key, kv, prev });
    }
    return changes;
  }

  /**
   * A listed pair differs from the copy's. The value is compared too (or its fingerprint): a store
   * replaced and written past the old revision can hold another value at the same modRevision.
   */
  private differs(prev: KeyValue | undefined, kv: KeyValue): boolean {
    if (!prev || prev.modRevision !== kv.modRevision) return true;
    if (this.retainValues) return prev.value !== kv.value;
    return this.fingerprints.get(kv.key) !== valueFingerprint(kv.value);
  }

  private onWatch(event: WatchEvent, run: WatchRun): void {
    // A store may go on calling after the watch ended: one end, one relisting.
    if (this.closed || run.over) return;
    this.lastHeard = Date.now();
    if (event.type === 'reset') {
      this.watchEnded(run, `watch reset: ${event.reason}`, undefined);
      return;
    }
    if (event.type === 'error') {
      this.watchEnded(run, `watch error: ${event.error.message}`, event.error);
      return;
    }
    if (event.revision < this.appliedRevision) {
      const reason = `revision went backwards (${event.revision} < ${this.appliedRevision})`;
      this.watchEnded(run, reason, undefined);
      return;
    }
    const changes = this.netChanges(event.changes);
    if (changes.length > 0 && !run.applied) {
      run.applied = true;
      // The watch works: a run of failures is over.
      if (this.pacer.inARow > 0) {
        this.pacer.reset();
        this.lastFailure = undefined;
      }
    }
    this.commit(changes, Math.max(event.revision, this.appliedRevision));
  }

  /**
   * A watch ended on the store's side: relist, paced by {@link RewatchPacer}. The first end of a
   * run reports the store's error as it came; then the count in a row is reported at 2, 4, 8...
   */
  private watchEnded(run: WatchRun, reason: string, error: Error | undefined): void {
    run.over = true;
    this.cancelProof();
    this.watch?.close();
    this.watch = undefined;
    const delay = this.pacer.ended(run.openedAt, run.applied);
    const inARow = this.pacer.inARow;
    if (inARow > 1) {
      const message = `The store's watch ended ${inARow} times in a row without a change (last: ${reason}); relisting in ${delay} ms.`;
      this.lastFailure = message;
      if ((inARow & (inARow - 1)) === 0) {
        this.emit('error', new StoreUnavailableError(message, { cause: error }));
      }
    } else if (error) {
      this.lastFailure = error.message;
      this.emit('error', error);
    }
    this.retryAfter(reason, delay);
  }

  /**
   * A batch's changes, one per key: what the key was before the batch, what it is after. A watch
   * that fell behind catches up with many revisions in one batch, where a key may be created and
   * deleted again: each change is weighed against the key as the batch has left it so far (the
   * copy is not touched until the whole batch is applied).
   */
  private netChanges(batch: readonly WatchChange[]): CacheChange[] {
    // Most batches hold one change (a watch keeping up): no map of keys to make.
    if (batch.length === 1) return this.netChange(batch[0]);
    const net = new Map<string, CacheChange>();
    for (const change of batch) {
      const key = change.type === 'put' ? change.kv.key : change.key;
      const modRevision = change.type === 'put' ? change.kv.modRevision : change.modRevision;
      const pending = net.get(key);
      const prev = pending ? pending.prev : this.data.get(key);
      const current = pending ? pending.kv : prev;
      // Already reflected: the listing or an earlier change covered this revision. A change of
      // this batch at the same revision as one before it in the batch is a later one (a key
      // named twice at one revision): it applies, in order.
      if (modRevision <= this.appliedRevision) continue;
      if (
        current &&
        (pending ? modRevision < current.modRevision : modRevision <= current.modRevision)
      )
        continue;
      if (change.type === 'delete' && !current) continue;
      net.set(key, { key, kv: change.type === 'put' ? change.kv : undefined, prev });
    }
    // Created and deleted again within the batch: nothing changed.
    return [...net.values()].filter((change) => change.kv || change.prev);
  }

  /** `netChanges` of a batch of one. */
  private netChange(change: WatchChange): CacheChange[] {
    const key = change.type === 'put' ? change.kv.key : change.key;
    const modRevision = change.type === 'put' ? change.kv.modRevision : change.modRevision;
    const prev = this.data.get(key);
    if (modRevision <= this.appliedRevision || (prev && modRevision <= prev.modRevision)) return [];
    if (change.type === 'delete') return prev ? [{ key, kv: undefined, prev }] : [];
    return [{ key, kv: change.kv, prev }];
  }

  private commit(changes: CacheChange[], revision: number): void {
    for (const change of changes) {
      const { kv } = change;
      if (!kv) {
        this.data.delete(change.key);
        this.fingerprints.delete(change.key);
      } else if (this.retainValues) this.data.set(change.key, kv);
      else {
        this.fingerprints.set(change.key, valueFingerprint(kv.value));
        // The consumer keeps its own decoded copy: hold the revisions only.
        this.data.set(change.key, {
          key: kv.key,
          value: '',
          createRevision: kv.createRevision,
          modRevision: kv.modRevision,
        });
      }
    }
    this.appliedRevision = revision;
    this.lastHeard = Date.now();
    if (changes.length > 0) this.emit('changes', changes, revision);
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    if (this.waiters.length === 0) return;
    let kept = 0;
    for (const waiter of this.waiters) {
      if (waiter.revision <= this.appliedRevision) waiter.resolve();
      else this.waiters[kept++] = waiter;
    }
    this.waiters.length = kept;
  }

  /** The store went back in time (restarted empty): revisions waited for may never come again. */
  private releaseAllWaiters(): void {
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }
}
