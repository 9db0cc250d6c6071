import { CommitUnknownError } from '../../lib';
import { EtcdCommit, type EtcdCommitContext } from '../../lib/store/etcd-commit';

/**
 * A write whose answer was lost, then whose marker's lease is gone (etcd restarted empty or
 * restored, the lease expired over a long partition): the fence can never be written with that
 * lease. It answered CommitUnknownError only after retrying until its deadline, and kept the
 * dead lease, so every later write failed the same way until the lease's renewal time (20 s with
 * the default requestTimeout): the cache-equals-store property test's writer saw it under load.
 */
test('a write in doubt whose lease is gone answers at once, and the next write takes a new lease', async () => {
  const leases = ['dead-lease', 'fresh-lease'];
  const sent: string[] = [];
  let first = true;
  const client = {
    leaseClient: { leaseGrant: async () => ({ ID: leases.shift() }) },
    kv: {
      txn: async (body: { success: { request_put?: { lease?: string } }[] }) => {
        const lease = body.success.at(-1)?.request_put?.lease as string;
        sent.push(lease);
        if (first) {
          first = false;
          throw new Error('14 UNAVAILABLE: the answer was lost'); // sent: in doubt
        }
        if (lease === 'dead-lease') throw new Error('etcdserver: requested lease not found');
        return { succeeded: true, header: { revision: '7' }, responses: [] };
      },
    },
  };
  const ctx = {
    client,
    requestTimeout: 2000,
    isClosed: () => false,
    convert: (error: unknown) => error,
  } as unknown as EtcdCommitContext;
  const commit = new EtcdCommit(ctx);
  const started = Date.now();
  const error = await commit.txn([], [{ type: 'put', key: 'k', value: 'v' }]).catch((e) => e);
  expect(error).toBeInstanceOf(CommitUnknownError);
  expect(error.message).toMatch(/lease is gone/);
  expect(Date.now() - started).toBeLessThan(1000);
  await expect(commit.txn([], [{ type: 'put', key: 'k', value: 'v' }])).resolves.toEqual({
    succeeded: true,
    revision: 7,
  });
  expect(sent.at(-1)).toBe('fresh-lease');
});
