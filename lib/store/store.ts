/**
 * The store contract: the few operations the gateway needs from a key-value store. Modelled on
 * libkv (the original's abstraction over etcd, Consul and ZooKeeper) plus atomic multi-key writes.
 * Every implementation passes the same contract test suite.
 *
 * Revisions are positive integers that only grow, shared by the whole store: every successful
 * write gets a new one. Values are text (the gateway writes JSON).
 */

/** One key with its value and the revisions that describe its history. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** The revision at which the key was created (since it last did not exist). */
  readonly createRevision: number;
  /** The revision of the key's last modification. */
  readonly modRevision: number;
}

/** A listing of every key under a prefix, consistent at one revision. */
export interface ListResult {
  /** The pairs, sorted by key. */
  readonly items: KeyValue[];
  /** The store revision this listing is consistent at. */
  readonly revision: number;
  /** True when `limit` cut the listing: ask again with `after` set to the last key returned. */
  readonly more: boolean;
}

/** Options for {@link Store.list}. */
export interface ListOptions {
  /** The most pairs to return at once. @default no limit */
  limit?: number;
  /** Start after this key (for the next page). */
  after?: string;
  /** Read at this revision, so that pages of one listing are consistent. @default the latest */
  revision?: number;
  /** Give up waiting. */
  signal?: AbortSignal;
}

/**
 * A condition of a transaction:
 * - `{ key, modRevision }`: the key's modification revision equals this number (0: the key is absent);
 * - `{ key, exists }`: the key exists, or not;
 * - `{ prefix, maxModRevision }`: no key under the prefix was modified (or created) after this
 *   revision; true when there are no keys.
 */
export type Compare =
  | { readonly key: string; readonly modRevision: number }
  | { readonly key: string; readonly exists: boolean }
  | { readonly prefix: string; readonly maxModRevision: number };

/** A write inside a transaction. */
export type Operation =
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'delete'; readonly key: string };

/** The outcome of a conditional write. */
export interface WriteResult {
  /** False when a condition did not hold; then nothing was written. */
  readonly succeeded: boolean;
  /** The store revision after the write (or, when it failed, the revision it was evaluated at). */
  readonly revision: number;
}

/** Options for a conditional {@link Store.put} or {@link Store.delete}. */
export interface WriteOptions {
  /** Write only if the key's modification revision equals this (0: only if the key is absent). */
  ifModRevision?: number;
}

/** One change seen by a watch. `prev` is absent when the store cannot tell it. */
export type WatchChange =
  | { readonly type: 'put'; readonly kv: KeyValue }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: number };

/**
 * What a watch delivers, in order:
 * - `changes`: the changes of one or more revisions, in revision order; `revision` is the highest
 *   revision the batch covers (it may be above the last change: a progress notification carries
 *   no change and only raises the revision);
 * - `reset`: the store cannot deliver changes from the requested revision (compacted away,
 *   revision went backwards, another cluster). The watcher must relist; the watch is over.
 * - `error`: the watch failed and is over; the watcher must relist and watch again.
 */
export type WatchEvent =
  | { readonly type: 'changes'; readonly revision: number; readonly changes: WatchChange[] }
  | { readonly type: 'reset'; readonly reason: string }
  | { readonly type: 'error'; readonly error: Error };

/** Receives a watch's events. Called synchronously, in order, never concurrently. */
export type WatchListener = (event: WatchEvent) => void;

/** A running watch. */
export interface Watch {
  /** Stops the watch; no event is delivered afterwards. Idempotent. */
  close(): void;
}

/** The store contract. See the module documentation. */
export interface Store {
  /** A short name for logs and the REPL, such as `MemoryStore`. */
  readonly name: string;
  /** Reads one key; `undefined` when absent. */
  get(key: string, options?: { signal?: AbortSignal }): Promise<KeyValue | undefined>;
  /** Lists the keys under a prefix, consistent at one revision. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Writes one key, optionally only if its modification revision is as given. */
  put(key: string, value: string, options?: WriteOptions): Promise<WriteResult>;
  /** Deletes one key, optionally only if its modification revision is as given. Deleting an absent key succeeds. */
  delete(key: string, options?: WriteOptions): Promise<WriteResult>;
  /** Applies every operation if every comparison holds, all at one revision; otherwise nothing. */
  txn(compares: readonly Compare[], operations: readonly Operation[]): Promise<WriteResult>;
  /**
   * Watches every key under `prefix` for changes at revisions `>= fromRevision`. The listener
   * receives the changes in revision order, each revision's changes in one batch, or a `reset`
   * when the store can no longer deliver changes from there.
   */
  watch(prefix: string, fromRevision: number, listener: WatchListener): Watch;
  /** Releases the store's resources; later calls fail with GatewayClosedError. Idempotent. */
  close(): Promise<void>;
  /**
   * The server endpoints the store's client connects to (`'host:port'` or URLs), for stores
   * backed by a server: the gateway never delivers a function there, so that whoever registers
   * functions cannot write into the store through one.
   */
  endpoints?(): readonly string[];
}
