import type { ICompare, IRequestOp } from 'etcd3';
import type { ExponentialDelayOptions } from '../model/exponential-delay';
import type { Compare, Operation } from './store';

/**
 * How a request to etcd is retried while etcd is unavailable: 25 ms doubling to 1 s, without
 * jitter (one client retrying its own request; the deadline bounds the whole).
 *
 * @example
 * ```ts
 * await pause(exponentialDelay(retries++, ETCD_RETRY_BACKOFF));
 * ```
 */
export const ETCD_RETRY_BACKOFF: ExponentialDelayOptions = Object.freeze({
  initialDelay: 25,
  maxDelay: 1000,
  jitter: false,
});

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // the whole keyspace
}

/** A contract compare as an etcd compare. */
export function compareToEtcd(compare: Compare): ICompare {
  if ('prefix' in compare) {
    // Every key in the range (vacuously none) was modified at or before the revision.
    return {
      key: Buffer.from(compare.prefix),
      range_end: prefixEnd(compare.prefix),
      target: 'Mod',
      result: 'Less',
      mod_revision: compare.maxModRevision + 1,
    };
  }
  if ('exists' in compare) {
    return {
      key: Buffer.from(compare.key),
      target: 'Version',
      result: compare.exists ? 'Greater' : 'Equal',
      version: 0,
    };
  }
  // A missing key's mod_revision is 0, so 0 means "absent", as in the contract.
  return {
    key: Buffer.from(compare.key),
    target: 'Mod',
    result: 'Equal',
    mod_revision: compare.modRevision,
  };
}

/** A contract operation as an etcd request. */
export function operationToEtcd(operation: Operation): IRequestOp {
  return operation.type === 'put'
    ? { request_put: { key: Buffer.from(operation.key), value: Buffer.from(operation.value) } }
    : { request_delete_range: { key: Buffer.from(operation.key) } };
}

/**
 * A transaction's operations with each key's last one only, in their order: etcd refuses a
 * transaction that names a key twice ("duplicate key given in txn request"), and the contract
 * applies operations in order, so the last one per key is the transaction's effect.
 *
 * @example
 * ```ts
 * lastPerKey([put('/a', '1'), put('/a', '2')]); // [put('/a', '2')]
 * ```
 */
export function lastPerKey(operations: readonly Operation[]): readonly Operation[] {
  const last = new Map<string, Operation>();
  for (const op of operations) {
    last.delete(op.key);
    last.set(op.key, op);
  }
  return last.size === operations.length ? operations : [...last.values()];
}

/**
 * etcd answered that the request itself is invalid (gRPC INVALID_ARGUMENT: over
 * `--max-request-bytes`, too many operations): refused before it was proposed, so never applied,
 * and the same request is refused again.
 */
export function refusedAsInvalid(error: unknown): boolean {
  const name = (error as Error)?.constructor?.name ?? '';
  return (
    name === 'GRPCInvalidArgumentError' ||
    /^3 INVALID_ARGUMENT/.test(String((error as Error)?.message ?? ''))
  );
}

/** gRPC status codes that mean "the call may not have reached etcd, or its answer was lost". */
export function isUnavailable(error: unknown): boolean {
  const name = (error as Error)?.constructor?.name ?? '';
  const message = String((error as Error)?.message ?? '');
  return (
    /GRPCUnavailable|GRPCDeadlineExceeded|GRPCConnectFailed|GRPCCancelled|GRPCInternal|BrokenCircuit|ClientRuntime|GRPCGenericError/.test(
      name,
    ) ||
    /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|ECONNRESET|No connection established|circuit/i.test(
      message,
    )
  );
}

/**
 * Errors after which a request certainly never left the client: the circuit breaker refused it,
 * or gRPC had no connection to send it on. Any other failure of a write leaves it in doubt.
 */
export function neverSent(error: unknown): boolean {
  const name = (error as Error)?.constructor?.name ?? '';
  return (
    name === 'BrokenCircuitError' ||
    /No connection established/.test(String((error as Error)?.message ?? ''))
  );
}
