import type {
  Compare,
  ListOptions,
  Operation,
  Store,
  Watch,
  WatchEvent,
  WatchListener,
  WriteOptions,
} from '../../lib';
import { MemoryStore } from '../../lib';

/**
 * A MemoryStore behind knobs that make it misbehave the ways remote stores do (listings that
 * fail, watch batches delivered twice or late, a restart that loses every key), to test the
 * cache's rules. The etcd store's suite exercises the same rules against a real etcd.
 */
export class UnreliableStore implements Store {
  readonly name = 'UnreliableStore';
  /** Reject this many list calls. */
  failLists = 0;
  /** Deliver every watch batch twice, the second time after the next one. */
  duplicateBatches = false;
  /** Delay every transaction by this many ms, as network latency would. */
  txnDelayMs = 0;
  lists = 0;
  private watches = new Set<{ listener: WatchListener; inner: Watch }>();

  constructor(public inner: MemoryStore = new MemoryStore()) {}

  get(key: string) {
    return this.inner.get(key);
  }
  async list(prefix: string, options?: ListOptions) {
    this.lists++;
    if (this.failLists > 0) {
      this.failLists--;
      throw new Error('connection refused');
    }
    return this.inner.list(prefix, options);
  }
  put(key: string, value: string, options?: WriteOptions) {
    return this.inner.put(key, value, options);
  }
  delete(key: string, options?: WriteOptions) {
    return this.inner.delete(key, options);
  }
  async txn(compares: readonly Compare[], operations: readonly Operation[]) {
    if (this.txnDelayMs > 0) await new Promise((r) => setTimeout(r, this.txnDelayMs));
    return this.inner.txn(compares, operations);
  }
  watch(prefix: string, fromRevision: number, listener: WatchListener): Watch {
    let previous: WatchEvent | undefined;
    const entry = {
      listener,
      inner: this.inner.watch(prefix, fromRevision, (event) => {
        listener(event);
        if (this.duplicateBatches) {
          listener(event);
          if (previous) listener(previous);
        }
        previous = event;
      }),
    };
    this.watches.add(entry);
    return {
      close: () => {
        entry.inner.close();
        this.watches.delete(entry);
      },
    };
  }
  /** Fails every open watch with an error, as a dropped connection would. */
  breakWatches(message = 'connection reset'): void {
    for (const entry of [...this.watches]) {
      entry.inner.close();
      this.watches.delete(entry);
      entry.listener({ type: 'error', error: new Error(message) });
    }
  }
  /** Replaces the data with an empty store whose revisions restart low, as an etcd restarted empty. */
  restartEmpty(): void {
    this.inner = new MemoryStore();
  }
  close() {
    return this.inner.close();
  }
}
