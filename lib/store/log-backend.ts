/**
 * What {@link LogBackedStore} needs from a key-value server without multi-version history
 * (ZooKeeper, Consul): plain keys with the server's own creation and modification indexes, one
 * "head" record that every write swaps atomically (the only compare-and-swap the server needs),
 * and a log of numbered change records written in the same atomic step as the keys they change.
 * The log gives the store what etcd has natively: watches that resume from a revision and listings
 * at an older revision, until the log is trimmed.
 *
 * Revisions are the server's own transaction indexes (ZooKeeper's zxid, Consul's raft index):
 * every key and the record written by one atomic commit share that commit's index.
 */
import type { KeyValue } from './store';

/** The head record: the log's extent and the identity of this store's data. */
export interface LogHead {
  /** The sequence number of the newest change record (0: none yet). */
  readonly seq: number;
  /** The oldest change record still kept (records are dense from `oldest` to `seq`). */
  readonly oldest: number;
  /** Made up when the head is first created: a new one means the data was lost and made anew. */
  readonly cluster: string;
  /** The revision of the last commit (the head's own modification index). */
  readonly revision: number;
  /** What the backend compares to swap the head (ZooKeeper's node version, Consul's ModifyIndex). */
  readonly token: number;
}

/** A key as the server keeps it. */
export interface StoredKey {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  /** What the backend compares to change or delete this key. */
  readonly token: number;
}

/** What a key was before a change: its value and revisions, or `null` when it was absent. */
export type PriorState =
  readonly [value: string, createRevision: number, modRevision: number] | null;

/** One change of a record: `['p', key, value, prior]` or `['d', key, prior]`. */
export type RecordChange =
  | readonly ['p', key: string, value: string, prior: PriorState]
  | readonly ['d', key: string, prior: PriorState];

/** The body of a change record, as JSON. */
export interface RecordBody {
  /** The writer's id for this commit, to settle a commit whose answer was lost. */
  readonly w: string;
  /** The revision of the record before this one (0 for the first). */
  readonly p: number;
  readonly c: readonly RecordChange[];
}

/** A change record with the revision the server gave its commit. */
export interface LogRecord extends RecordBody {
  readonly seq: number;
  readonly revision: number;
}

/** One atomic commit. */
export interface CommitPlan {
  /** The head the commit was planned against; the commit fails if it changed meanwhile. */
  readonly head: LogHead;
  readonly newHead: Pick<LogHead, 'seq' | 'oldest' | 'cluster'>;
  /** The change record (absent for a commit that only trims the log). */
  readonly record?: { readonly seq: number; readonly body: RecordBody };
  /** Puts: `token` undefined creates the key (and fails if it exists). */
  readonly puts: readonly { key: string; value: string; token: number | undefined }[];
  readonly deletes: readonly { key: string; token: number }[];
  /** Records to delete (the log's oldest, when it is over its bound, or on `compact`). */
  readonly trim: readonly number[];
}

/** What {@link LogBackend.waitForHead} saw. */
export interface HeadChange {
  /** The head now; absent when there is none any more (the data is gone). */
  readonly head: LogHead | undefined;
  /** Record `known.seq + 1`, when the backend could read it in the same round trip. */
  readonly next?: LogRecord;
}

/** A server the {@link LogBackedStore} runs on. */
export interface LogBackend {
  /** Reads the head; `undefined` when there is none yet. */
  readHead(): Promise<LogHead | undefined>;
  /** Creates the head of an empty store (does nothing if another writer created one first). */
  createHead(cluster: string): Promise<void>;
  /** The names of every key under a prefix, in no particular order. */
  listKeys(prefix: string): Promise<string[]>;
  /**
   * Reads the head and keys in one round trip, the keys no older than the head (read after it, or
   * with it atomically): what a write plans on.
   */
  readHeadAndKeys(
    keys: readonly string[],
  ): Promise<[LogHead | undefined, (StoredKey | undefined)[]]>;
  /**
   * Every key under a prefix with its value, in one read, where the server has such a read (a
   * recursive GET in Consul); listings then read no key by key.
   */
  readPrefix?(prefix: string): Promise<StoredKey[]>;
  /** Reads keys; `undefined` for an absent one. */
  readKeys(keys: readonly string[]): Promise<(StoredKey | undefined)[]>;
  /** Reads change records; `undefined` for one that is not there (trimmed, or never written). */
  readRecords(seqs: readonly number[]): Promise<(LogRecord | undefined)[]>;
  /** Applies a plan atomically: the revision, or `undefined` when the head or a key had changed. */
  commit(plan: CommitPlan): Promise<number | undefined>;
  /**
   * Resolves with the head once it differs from `known` (by token), or with the current head when
   * `maxWait` ms pass first (no head: the data is gone); rejects when the server cannot be
   * reached. `signal` ends the wait (with `undefined`).
   */
  waitForHead(
    known: LogHead,
    maxWait: number,
    signal: AbortSignal,
  ): Promise<HeadChange | undefined>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** The numbers `from` to `to`, both included (none when `to < from`). */
export function seqRange(from: number, to: number): number[] {
  return to < from ? [] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A stored key as the store contract shows it (without the backend's token). */
export function toKeyValue({ key, value, createRevision, modRevision }: StoredKey): KeyValue {
  return { key, value, createRevision, modRevision };
}

/** Parses a record body; throws on anything else (the store reports it as corrupt). */
export function parseRecordBody(text: string): RecordBody {
  const body = JSON.parse(text) as RecordBody;
  if (typeof body?.w !== 'string' || typeof body.p !== 'number' || !Array.isArray(body.c)) {
    throw new Error('not a change record');
  }
  return body;
}
