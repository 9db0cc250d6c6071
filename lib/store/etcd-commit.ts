import { randomUUID } from 'node:crypto';
import type { Etcd3, ITxnRequest, ITxnResponse } from 'etcd3';
import {
  CommitUnknownError,
  GatewayClosedError,
  GatewayError,
  StoreUnavailableError,
  ValidationError,
} from '../errors';
import { exponentialDelay } from '../model/exponential-delay';
import { beforeDeadline, pause } from './deadline';
import {
  compareToEtcd,
  ETCD_RETRY_BACKOFF,
  isUnavailable,
  lastPerKey,
  neverSent,
  operationToEtcd,
  refusedAsInvalid,
} from './etcd-requests';
import type { Compare, Operation, WriteResult } from './store';

/**
 * Where the commit markers live: outside any gateway prefix (those start with `/`). An etcd user
 * under RBAC needs read and write on this prefix.
 */
export const COMMIT_MARKER_PREFIX = 'event-gateway.commits/';

/** A marker's value: put by the write that committed, or by the fence that settled it as lost. */
const COMMITTED = 'c';
const FENCED = 'f';

/** What an {@link EtcdCommit} needs from its store. */
export interface EtcdCommitContext {
  readonly client: Etcd3;
  /** How long a write may take; a write in doubt then has as long again to settle. */
  readonly requestTimeout: number;
  isClosed(): boolean;
  /** An error of the client as ours. */
  convert(error: unknown): GatewayError;
}

/**
 * The write path of {@link EtcdStore}: never answers a failure for a transaction that may have
 * been applied.
 *
 * A transaction carries no id of its own, so each one puts a marker key of its own,
 * `event-gateway.commits/<uuid>`, in the same atomic step and only if the marker is absent; the
 * marker lives on a lease and is gone within a minute (40 s with the default requestTimeout).
 * A transaction whose answer is lost is sent again as it was (the same marker): if the first
 * one landed, the second one's failure branch reads the marker and says so. Once the deadline has passed, the write is settled
 * instead: a fence transaction puts the marker as "fenced" if it is absent, so that the lost
 * one, still on its way, can never land afterwards; if the marker is there as "committed", it
 * landed. When etcd stays away another `requestTimeout`, the write fails with
 * CommitUnknownError.
 *
 * Why a marker per write and not the end state: another gateway may have written the same values
 * (the write would be taken for done when it never landed), or changed them since (a write that
 * landed would be taken for refused, and the configuration API would plan it again: a create
 * then answers ALREADY_EXISTS). A marker per writer (one key, its last write id) would be lost to
 * the writer's own concurrent writes; a mod revision is unknown when the answer is lost.
 */
export class EtcdCommit {
  /** The lease the markers live on, and when to take a new one. */
  private lease: { id: string; renewAt: number } | undefined;
  private granting: Promise<string> | undefined;
  /**
   * The markers' lease lifetime, in seconds. A lease serves for half of it, and a marker must
   * outlive its write's settling (up to 2 × requestTimeout) even when the grant's answer took a
   * whole requestTimeout to come: half of 6 × requestTimeout + 10 s leaves that with 5 s to spare.
   * Short, so that markers do not pile up: at most TTL × writes per second of them exist.
   */
  private readonly leaseTtl: number;

  constructor(private readonly ctx: EtcdCommitContext) {
    this.leaseTtl = Math.ceil((6 * ctx.requestTimeout) / 1000) + 10;
  }

  async txn(compares: readonly Compare[], operations: readonly Operation[]): Promise<WriteResult> {
    const { ctx } = this;
    const deadline = Date.now() + ctx.requestTimeout;
    let retries = 0;
    let delay = exponentialDelay(retries, ETCD_RETRY_BACKOFF);
    let request: { marker: string; lease: string; body: ITxnRequest } | undefined;
    /** The marker of a request that may have been applied. */
    let inDoubt: typeof request;
    let lastError: unknown;
    for (;;) {
      if (ctx.isClosed()) {
        if (inDoubt) throw this.unknown('the store was closed', lastError);
        throw new GatewayClosedError('EtcdStore is closed.');
      }
      let sending = false;
      try {
        request ??= this.request(compares, operations, await this.leaseId(deadline));
        sending = true;
        const res = await ctx.client.kv.txn(request.body, { deadline });
        return this.outcome(res, request.marker);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        if (refusedAsInvalid(error)) {
          // An answer, not a lost one: whatever was sent before was this same request, refused too.
          throw new ValidationError(
            `EtcdStore: etcd refused the write (${(error as Error).message}); nothing was written.`,
            { cause: error },
          );
        }
        lastError = error;
        if (sending && !neverSent(error)) inDoubt = request;
        if (/lease not found/i.test(String((error as Error)?.message))) {
          // The lease is gone (revoked, or etcd restored from a backup): refused, not applied.
          if (inDoubt) break;
          this.lease = undefined;
          request = undefined;
        } else if (!isUnavailable(error)) {
          if (inDoubt) break;
          throw ctx.convert(error);
        }
        if (Date.now() + delay >= deadline) break;
        await pause(delay);
        delay = exponentialDelay(++retries, ETCD_RETRY_BACKOFF);
      }
    }
    if (!inDoubt) {
      throw new StoreUnavailableError(
        `etcd did not answer within ${ctx.requestTimeout} ms: ${(lastError as Error)?.message}; the write was not applied.`,
        { cause: lastError },
      );
    }
    return this.settle(inDoubt, deadline + ctx.requestTimeout, lastError);
  }

  /** The transaction with its marker: put if absent on success, read on failure. */
  private request(compares: readonly Compare[], operations: readonly Operation[], lease: string) {
    const marker = `${COMMIT_MARKER_PREFIX}${randomUUID()}`;
    const key = Buffer.from(marker);
    const body: ITxnRequest = {
      compare: [...compares.map(compareToEtcd), compareToEtcd({ key: marker, exists: false })],
      success: [
        ...lastPerKey(operations).map(operationToEtcd),
        { request_put: { key, value: Buffer.from(COMMITTED), lease } },
      ],
      failure: [{ request_range: { key } }],
    };
    return { marker, lease, body };
  }

  /** A transaction's answer: done, refused by the caller's compares, or done by an earlier send. */
  private outcome(res: ITxnResponse, marker: string): WriteResult {
    if (res.succeeded) return { succeeded: true, revision: Number(res.header.revision) };
    const kv = res.responses[0]?.response_range?.kvs[0];
    if (kv?.value.toString() === COMMITTED) {
      return { succeeded: true, revision: Number(kv.mod_revision) };
    }
    if (kv) {
      throw new StoreUnavailableError(
        `etcd: the write's marker ${marker} was fenced; not applied.`,
      );
    }
    return { succeeded: false, revision: Number(res.header.revision) };
  }

  /**
   * Fences the marker of a transaction in doubt: committed (it landed), or now fenced (it did not,
   * and never will). Fails with CommitUnknownError when etcd cannot tell before `until`.
   */
  private async settle(
    sent: { marker: string; lease: string },
    until: number,
    cause: unknown,
  ): Promise<WriteResult> {
    const key = Buffer.from(sent.marker);
    const fence: ITxnRequest = {
      compare: [compareToEtcd({ key: sent.marker, exists: false })],
      success: [{ request_put: { key, value: Buffer.from(FENCED), lease: sent.lease } }],
      failure: [{ request_range: { key } }],
    };
    let retries = 0;
    let delay = exponentialDelay(retries, ETCD_RETRY_BACKOFF);
    let lastError = cause;
    for (;;) {
      if (this.ctx.isClosed()) throw this.unknown('the store was closed', lastError);
      try {
        const res = await this.ctx.client.kv.txn(fence, { deadline: until });
        const kv = res.responses[0]?.response_range?.kvs[0];
        if (!res.succeeded && kv?.value.toString() === COMMITTED) {
          return { succeeded: true, revision: Number(kv.mod_revision) };
        }
        throw new StoreUnavailableError(
          `etcd did not answer within ${this.ctx.requestTimeout} ms: ${(cause as Error)?.message}; the write was not applied.`,
          { cause },
        );
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        lastError = error;
        if (/lease not found/i.test(String((error as Error)?.message))) {
          // The marker's lease is gone (etcd restored or restarted empty, the lease expired):
          // the marker went with it, so nothing can tell any more, and waiting cannot change
          // that. The next write takes a new lease (this one would fail every write until renewAt).
          if (this.lease?.id === sent.lease) this.lease = undefined;
          throw this.unknown("the marker's lease is gone, so etcd cannot tell", lastError);
        }
        if (Date.now() + delay >= until) throw this.unknown('etcd did not answer', lastError);
        await pause(delay);
        delay = exponentialDelay(++retries, ETCD_RETRY_BACKOFF);
      }
    }
  }

  /** The markers' lease, granted anew when half its lifetime has gone. */
  private async leaseId(deadline: number): Promise<string> {
    if (this.lease && Date.now() < this.lease.renewAt) return this.lease.id;
    this.granting ??= this.ctx.client.leaseClient
      .leaseGrant({ TTL: this.leaseTtl }, { deadline })
      .then((res) => {
        this.lease = { id: res.ID, renewAt: Date.now() + (this.leaseTtl * 1000) / 2 };
        return res.ID;
      })
      .finally(() => (this.granting = undefined));
    return beforeDeadline(this.granting, deadline);
  }

  private unknown(why: string, cause: unknown): CommitUnknownError {
    return new CommitUnknownError(
      `EtcdStore: the write was sent but its answer was lost, and ${why} in time to tell whether it was applied: it may have been.`,
      { cause },
    );
  }
}
