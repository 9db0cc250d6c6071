import { randomUUID } from 'node:crypto';
import {
  GatewayClosedError,
  GatewayError,
  RevisionCompactedError,
  StoreUnavailableError,
} from '../errors';
import { MAX_TIMER_MS, positiveOption } from '../model/checks';
import { keepAliveWhile } from '../model/keep-alive';
import { pause } from './deadline';
import { seqRange, toKeyValue, type LogBackend, type LogHead } from './log-backend';
import { LogCommit } from './log-commit';
import { listAtRevision, NamesMemo } from './log-listing';
import { LogWatch } from './log-watch';
import { wellFormedListing, wellFormedText, wellFormedTxn } from './well-formed-text';
import type {
  Compare,
  KeyValue,
  ListOptions,
  ListResult,
  Operation,
  Store,
  Watch,
  WatchListener,
  WriteOptions,
  WriteResult,
} from './store';

/** How many change records one compaction commit deletes. */
const TRIM_STEP = 50;

/** The pause before a read or write tries again after a lost connection. */
const RETRY_DELAY_MS = 50;

/**
 * Options every store built on a change log shares ({@link zookeeper.ZooKeeperStore | ZooKeeperStore},
 * {@link consul.ConsulStore | ConsulStore}).
 */
export interface LogStoreOptions {
  /**
   * How long one call (a read, or a write with its retries) may take before it fails with
   * StoreUnavailableError, in ms. A write whose commit is in doubt at that moment (sent, its
   * answer lost) has as long again to find out whether it landed, and fails with
   * CommitUnknownError only if the server stays away all that time.
   * @default 5000
   */
  requestTimeout?: number;
  /**
   * How many change records the store keeps: watches and paged listings can resume from any
   * revision they cover; older ones get a `reset` (and the cache relists).
   * @default 10000
   */
  historySize?: number;
  /**
   * How often an idle watch reads the head to prove the server still answers, in ms (a watch that
   * cannot read it ends with an error, and the cache relists).
   * @default 10000
   */
  watchCheckInterval?: number;
}

/**
 * The store contract over a server without multi-version history: keys as the server keeps them,
 * plus a change log written in the same atomic commit (see {@link LogBackend}). Every write swaps
 * one head record, so concurrent writers from many gateways serialise on it and every compare of
 * the contract is checked against one consistent state.
 */
export abstract class LogBackedStore implements Store {
  abstract readonly name: string;
  protected readonly requestTimeout: number;
  private readonly historySize: number;
  private readonly watchCheckInterval: number;
  private readonly watches = new Set<LogWatch>();
  private readonly namesMemo = new NamesMemo();
  private closed = false;

  protected readonly backend: LogBackend;
  private readonly commits: LogCommit;

  /** Checks every option first: a refused store never connects. */
  protected constructor(makeBackend: () => LogBackend, options: LogStoreOptions) {
    const timer = (value: number, name: string) => positiveOption(value, name, MAX_TIMER_MS);
    this.requestTimeout = timer(options.requestTimeout ?? 5000, 'requestTimeout');
    this.historySize = positiveOption(options.historySize ?? 10_000, 'historySize');
    this.watchCheckInterval = timer(options.watchCheckInterval ?? 10_000, 'watchCheckInterval');
    this.backend = makeBackend();
    this.commits = new LogCommit({
      // The subclass sets its name after this constructor has run.
      name: () => this.name,
      backend: this.backend,
      requestTimeout: this.requestTimeout,
      historySize: this.historySize,
      head: () => this.head(),
      isClosed: () => this.closed,
    });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    wellFormedText(key, 'key');
    const [stored] = await keepAliveWhile(
      this.call(() => this.retrying(() => this.backend.readKeys([key]))),
    );
    return stored && toKeyValue(stored);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    wellFormedListing(prefix, options);
    return keepAliveWhile(
      this.call(() =>
        this.retrying(() =>
          listAtRevision(this.backend, () => this.head(), prefix, options, this.namesMemo),
        ),
      ),
    );
  }

  put(key: string, value: string, options: WriteOptions = {}): Promise<WriteResult> {
    return this.txn(compareFor(key, options), [{ type: 'put', key, value }]);
  }

  delete(key: string, options: WriteOptions = {}): Promise<WriteResult> {
    return this.txn(compareFor(key, options), [{ type: 'delete', key }]);
  }

  /**
   * Commits a transaction (see `LogCommit`): never answers a failure for a write that may
   * have landed.
   */
  async txn(compares: readonly Compare[], operations: readonly Operation[]): Promise<WriteResult> {
    this.assertOpen();
    wellFormedTxn(compares, operations);
    return keepAliveWhile(this.commits.txn(compares, operations));
  }

  watch(prefix: string, fromRevision: number, listener: WatchListener): Watch {
    this.assertOpen();
    wellFormedText(prefix, 'prefix');
    const watch = new LogWatch({
      backend: this.backend,
      call: (read) => this.call(read),
      head: () => this.head(),
      floor: (head) => this.floor(head),
      prefix,
      fromRevision,
      listener,
      checkInterval: this.watchCheckInterval,
      onClose: () => this.watches.delete(watch),
    });
    this.watches.add(watch);
    return watch;
  }

  /**
   * Deletes the change records up to `revision` (watches and listings from before it get a reset
   * or RevisionCompactedError), as etcd's compaction does. The store also trims on its own beyond
   * `historySize`.
   */
  async compact(revision: number): Promise<void> {
    const compacting = this.call(async () => {
      // In steps of TRIM_STEP records: one commit must stay within every server's request limits.
      for (;;) {
        const head = await this.head();
        const seqs = seqRange(head.oldest, Math.min(head.seq, head.oldest + TRIM_STEP - 1));
        const records = await this.backend.readRecords(seqs);
        const trim = seqs.filter((_, i) => (records[i]?.revision ?? 0) <= revision);
        if (trim.length === 0) return;
        await this.backend.commit({
          head,
          newHead: { seq: head.seq, oldest: head.oldest + trim.length, cluster: head.cluster },
          puts: [],
          deletes: [],
          trim,
        });
      }
    });
    await keepAliveWhile(compacting);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.close();
    await this.backend.close();
  }

  protected assertOpen(): void {
    if (this.closed) throw new GatewayClosedError(`${this.name} is closed.`);
  }

  /** The head, created on first use of an empty store. */
  private async head(): Promise<LogHead> {
    const head = await this.backend.readHead();
    if (head) return head;
    await this.backend.createHead(randomUUID());
    const created = await this.backend.readHead();
    if (!created)
      throw new StoreUnavailableError(`${this.name}: the head vanished after creation.`);
    return created;
  }

  /** The revision up to which history is gone: listings at it and watches after it are whole. */
  private async floor(head: LogHead): Promise<number> {
    if (head.oldest <= 1) return 0;
    if (head.oldest > head.seq) return head.revision;
    const [oldest] = await this.backend.readRecords([head.oldest]);
    if (!oldest) throw new RevisionCompactedError(`${this.name}: history moved on.`, head.revision);
    return oldest.p;
  }

  /**
   * Runs a read again after a failure that may pass (a connection lost while it was in flight),
   * until the request timeout ends it.
   */
  private async retrying<T>(read: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.requestTimeout;
    for (;;) {
      try {
        return await read();
      } catch (error) {
        if (error instanceof GatewayError || this.closed) throw error;
        if (Date.now() + RETRY_DELAY_MS >= deadline) throw error;
        await pause(RETRY_DELAY_MS);
      }
    }
  }

  /**
   * Runs a call within `requestTimeout`, converting what the client throws into our errors. The
   * call may retry inside while it sees the deadline ahead.
   */
  private async call<T>(fn: (deadline: number) => Promise<T>): Promise<T> {
    this.assertOpen();
    const deadline = Date.now() + this.requestTimeout;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StoreUnavailableError(
              `${this.name} did not answer within ${this.requestTimeout} ms.`,
            ),
          ),
        Math.min(this.requestTimeout, MAX_TIMER_MS),
      );
      timer.unref();
    });
    try {
      return await Promise.race([fn(deadline), timeout]);
    } catch (error) {
      if (this.closed) throw new GatewayClosedError(`${this.name} is closed.`, { cause: error });
      if (error instanceof GatewayError) throw error;
      throw new StoreUnavailableError(
        `${this.name} failed: ${(error as Error)?.message ?? error}`,
        {
          cause: error,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

function compareFor(key: string, options: WriteOptions): Compare[] {
  return options.ifModRevision === undefined ? [] : [{ key, modRevision: options.ifModRevision }];
}
