import { randomUUID } from 'node:crypto';
import {
  CommitUnknownError,
  GatewayClosedError,
  GatewayError,
  StoreUnavailableError,
} from '../errors';
import { exponentialDelay } from '../model/exponential-delay';
import { beforeDeadline, DeadlinePassed, pause } from './deadline';
import type { LogBackend, LogHead, PriorState, RecordChange, StoredKey } from './log-backend';
import type { Compare, Operation, WriteResult } from './store';

/** The pause before a write tries again after a lost connection. */
const RETRY_DELAY_MS = 50;

/** What a {@link LogCommit} needs from its store. */
export interface LogCommitContext {
  /** The store's name, for messages. */
  name(): string;
  readonly backend: LogBackend;
  /** How long a write may take; a write in doubt then has as long again to settle. */
  readonly requestTimeout: number;
  /** How many change records the store keeps. */
  readonly historySize: number;
  /** The head, created on first use of an empty store. */
  head(): Promise<LogHead>;
  isClosed(): boolean;
}

/** A commit that was sent and whose answer was lost: it may have landed, or may still. */
interface InDoubt {
  /** The change record it would have made. */
  readonly seq: number;
  /** The head token it swaps: once the head has another, the commit can never land. */
  readonly headToken: number;
  readonly writeId: string;
}

/**
 * The write path of {@link LogBackedStore}: plans a transaction on the head and the keys it
 * touches, commits it with a compare-and-swap of the head, and never answers a failure for a
 * write that may have landed. A commit whose answer is lost (the connection dropped, or the
 * deadline came while it was in flight) is settled before anything else happens: its change
 * record carries the write's id, and while the head has not moved the head is swapped once
 * (a fence) so that the commit, if it is still on its way, can never land afterwards. Only
 * when the server stays away for another `requestTimeout` does the write fail with
 * CommitUnknownError.
 */
export class LogCommit {
  constructor(private readonly ctx: LogCommitContext) {}

  async txn(compares: readonly Compare[], operations: readonly Operation[]): Promise<WriteResult> {
    const { ctx } = this;
    const writeId = randomUUID();
    const deadline = Date.now() + ctx.requestTimeout;
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      if (ctx.isClosed()) throw new GatewayClosedError(`${ctx.name()} is closed.`);
      // Nothing of this write is in doubt here: failing says truly that nothing was applied.
      if (Date.now() >= deadline) throw this.unavailable(lastError);
      let sent: InDoubt | undefined;
      try {
        const [head, state] = await beforeDeadline(
          this.headAndState(compares, operations),
          deadline,
        );
        if (!compares.every((compare) => holds(compare, state))) {
          const after = await beforeDeadline(ctx.head(), deadline);
          if (after.token === head.token) return { succeeded: false, revision: head.revision };
          continue;
        }
        const changes = applyOperations(operations, state.keys);
        if (changes.length === 0) return { succeeded: true, revision: head.revision };
        if (ctx.isClosed() || Date.now() >= deadline) continue;
        const seq = head.seq + 1;
        const trim = head.seq - head.oldest + 1 >= ctx.historySize ? [head.oldest] : [];
        sent = { seq, headToken: head.token, writeId };
        const commit = ctx.backend.commit({
          head,
          newHead: { seq, oldest: head.oldest + trim.length, cluster: head.cluster },
          record: { seq, body: { w: writeId, p: head.revision, c: changes } },
          puts: changes.flatMap((c) =>
            c[0] === 'p' ? [{ key: c[1], value: c[2], token: state.keys.get(c[1])?.token }] : [],
          ),
          deletes: changes.flatMap((c) =>
            c[0] === 'd' ? [{ key: c[1], token: state.keys.get(c[1])!.token }] : [],
          ),
          trim,
        });
        const revision = await beforeDeadline(commit, deadline);
        if (revision !== undefined) return { succeeded: true, revision };
      } catch (error) {
        // A refusal (too large, not allowed) is an answer: nothing was applied.
        if (error instanceof GatewayError) throw error;
        lastError = error;
        if (sent) {
          const landed = await this.settle(sent, deadline + ctx.requestTimeout, error);
          if (landed !== undefined) return { succeeded: true, revision: landed };
        }
        if (Date.now() + RETRY_DELAY_MS >= deadline) throw this.unavailable(error);
        await pause(RETRY_DELAY_MS);
        continue;
      }
      // Another writer got there first: back off a little (more each time) and plan again.
      await pause(exponentialDelay(attempt, { initialDelay: 1, maxDelay: 50 }));
    }
  }

  /**
   * Whether a commit in doubt landed: its revision, or `undefined` when it did not and never
   * will. Fails with CommitUnknownError when the server cannot tell before `until`.
   */
  private async settle(sent: InDoubt, until: number, cause: unknown): Promise<number | undefined> {
    const { backend } = this.ctx;
    let lastError = cause;
    for (;;) {
      if (this.ctx.isClosed()) throw this.unknown('the store was closed', lastError);
      if (Date.now() >= until) throw this.unknown('the server did not answer', lastError);
      try {
        const head = await beforeDeadline(backend.readHead(), until);
        // The data is gone (the server came back empty): nothing of the write is there.
        if (!head) return undefined;
        if (head.token === sent.headToken) {
          // Not landed, but it still may: swap the head (unchanged) so that it never can.
          const { seq, oldest, cluster } = head;
          const fence = backend.commit({
            head,
            newHead: { seq, oldest, cluster },
            puts: [],
            deletes: [],
            trim: [],
          });
          if ((await beforeDeadline(fence, until)) !== undefined) return undefined;
          continue;
        }
        // The head has moved on: the commit can no longer land, and did only if it made its record.
        if (head.seq < sent.seq) return undefined;
        const [record] = await beforeDeadline(backend.readRecords([sent.seq]), until);
        if (record) return record.w === sent.writeId ? record.revision : undefined;
        throw this.unknown('its change record was trimmed before it could be read', lastError);
      } catch (error) {
        if (error instanceof CommitUnknownError) throw error;
        lastError = error;
        await pause(Math.min(RETRY_DELAY_MS, Math.max(0, until - Date.now())));
      }
    }
  }

  /** The head, and the keys a write depends on as of that head or later. */
  private async headAndState(compares: readonly Compare[], operations: readonly Operation[]) {
    const { backend } = this.ctx;
    const names = new Set<string>();
    for (const item of [...compares, ...operations]) if ('key' in item) names.add(item.key);
    const keys = [...names];
    let [head, stored] = await backend.readHeadAndKeys(keys);
    if (!head) {
      // An empty store: make the head, then read again after it.
      head = await this.ctx.head();
      stored = await backend.readKeys(keys);
    }
    const map = new Map<string, StoredKey>();
    keys.forEach((key, i) => stored[i] && map.set(key, stored[i]!));
    const prefixMax = new Map<string, number>();
    for (const compare of compares) {
      if (!('prefix' in compare) || prefixMax.has(compare.prefix)) continue;
      const under = await backend.readKeys(await backend.listKeys(compare.prefix));
      prefixMax.set(compare.prefix, Math.max(0, ...under.map((kv) => kv?.modRevision ?? 0)));
    }
    return [head, { keys: map, prefixMax }] as const;
  }

  /** Nothing of the write was applied. */
  private unavailable(cause: unknown): StoreUnavailableError {
    const { name, requestTimeout } = this.ctx;
    const why = cause && !(cause instanceof DeadlinePassed) ? `: ${describe(cause)}` : '';
    return new StoreUnavailableError(
      `${name()} did not answer within ${requestTimeout} ms${why}; the write was not applied.`,
      { cause },
    );
  }

  private unknown(why: string, cause: unknown): CommitUnknownError {
    return new CommitUnknownError(
      `${this.ctx.name()}: the write was sent but its answer was lost, and ${why} in time to tell whether it was applied: it may have been.`,
      { cause },
    );
  }
}

function describe(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

function holds(
  compare: Compare,
  state: { keys: Map<string, StoredKey>; prefixMax: Map<string, number> },
): boolean {
  if ('prefix' in compare)
    return (state.prefixMax.get(compare.prefix) ?? 0) <= compare.maxModRevision;
  const stored = state.keys.get(compare.key);
  if ('exists' in compare) return (stored !== undefined) === compare.exists;
  return (stored?.modRevision ?? 0) === compare.modRevision;
}

function priorOf(stored: StoredKey | undefined): PriorState {
  return stored ? [stored.value, stored.createRevision, stored.modRevision] : null;
}

/** The changes a transaction's operations make (a later operation on a key replaces an earlier one). */
function applyOperations(
  operations: readonly Operation[],
  keys: Map<string, StoredKey>,
): RecordChange[] {
  const last = new Map<string, Operation>();
  for (const op of operations) last.set(op.key, op);
  const changes: RecordChange[] = [];
  for (const [key, op] of last) {
    const prior = priorOf(keys.get(key));
    if (op.type === 'put') changes.push(['p', key, op.value, prior]);
    else if (prior) changes.push(['d', key, prior]);
  }
  return changes;
}
