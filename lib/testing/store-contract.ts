import assert from 'node:assert/strict';
import { GatewayClosedError, type Store, type WatchEvent } from '../index';
import { collectWatch } from './collect-watch';

/** What the contract needs of a store under test beyond the contract itself. */
export interface StoreHarness {
  /** The store under test. Keys live under a unique prefix per test, so one server serves all. */
  readonly store: Store;
  /**
   * Discards history up to `revision`, as etcd's compaction does (later, watches from before it
   * get a `reset`). A store without history of its own resets such watches anyway: do nothing.
   */
  compact(revision: number): Promise<void>;
  /** Releases whatever the harness made (the store; the server may outlive it). */
  dispose(): Promise<void>;
}

/**
 * The test functions of your runner: jest, vitest and mocha pass their globals; `node:test`
 * passes `{ describe, it, beforeEach, afterEach }` from `node:test`.
 */
export interface TestRunner {
  /** Groups the contract's tests. */
  describe(name: string, body: () => void): void;
  /** One test; `timeout` in ms where the runner takes one (jest, vitest). */
  it(name: string, body: () => Promise<void>, timeout?: number): void;
  /** Makes the store before each test. */
  beforeEach(body: () => Promise<void>): void;
  /** Disposes of it after each test. */
  afterEach(body: () => Promise<void>): void;
}

/** Options of {@link describeStoreContract}. */
export interface StoreContractOptions {
  /** The test runner's functions. @default the runner's globals (`describe`, `it`, ...) */
  runner?: TestRunner;
  /** How long a test may wait for a watch to deliver, in ms. @default 10000 */
  watchTimeout?: number;
  /**
   * Whether the store resumes a watch from an older revision it still holds. A store that keeps
   * no history may answer every such watch with a `reset` (the cache then relists): pass false.
   * @default true
   */
  resumes?: boolean;
}

function globalRunner(): TestRunner {
  const g = globalThis as unknown as Partial<TestRunner> & { test?: TestRunner['it'] };
  const it = g.it ?? g.test;
  if (!g.describe || !it || !g.beforeEach || !g.afterEach) {
    throw new TypeError(
      'describeStoreContract: no test runner globals (describe, it, beforeEach, afterEach): pass { runner }.',
    );
  }
  return { describe: g.describe, it, beforeEach: g.beforeEach, afterEach: g.afterEach };
}

/**
 * The store contract suite, as the project runs it against every store it ships: pass a factory
 * of your store and every test of the contract runs under your test runner. Assertions use
 * `node:assert`, so any runner works.
 * @example
 * ```ts
 * // redis-store.test.ts (jest or vitest)
 * import { describeStoreContract } from 'event-gateway/testing';
 * import { RedisStore } from '../src/redis-store';
 *
 * describeStoreContract('RedisStore', async () => {
 *   const store = new RedisStore({ url: process.env.REDIS_URL! });
 *   return { store, compact: (rev) => store.compact(rev), dispose: () => store.close() };
 * });
 * ```
 */
export function describeStoreContract(
  name: string,
  create: () => Promise<StoreHarness>,
  options: StoreContractOptions = {},
): void {
  const { describe, it, beforeEach, afterEach } = options.runner ?? globalRunner();
  const watchTimeout = options.watchTimeout ?? 10_000;
  const resumes = options.resumes ?? true;
  describe(`store contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;
    let p: string;
    let n = 0;
    const run = `${process.pid}-${Date.now().toString(36)}`;

    beforeEach(async () => {
      harness = await create();
      store = harness.store;
      p = `/contract-${run}-${++n}/`;
    });
    afterEach(async () => {
      await harness.dispose();
    });

    for (const [title, body] of Object.entries(CONTRACT)) {
      it(title, () => body({ store, p, harness, watchTimeout, resumes }), watchTimeout * 3);
    }
  });
}

interface ContractContext {
  readonly store: Store;
  /** A prefix of this test's own. */
  readonly p: string;
  readonly harness: StoreHarness;
  readonly watchTimeout: number;
  readonly resumes: boolean;
}

const keysOf = (items: readonly { key: string }[]) => items.map((kv) => kv.key);

const CONTRACT: Record<string, (t: ContractContext) => Promise<void>> = {
  'get returns undefined for an absent key and the pair after a put': async ({ store, p }) => {
    assert.equal(await store.get(p + 'a'), undefined);
    const put = await store.put(p + 'a', '{"x":1}');
    assert.equal(put.succeeded, true);
    assert.deepEqual(await store.get(p + 'a'), {
      key: p + 'a',
      value: '{"x":1}',
      createRevision: put.revision,
      modRevision: put.revision,
    });
  },

  'every write gets a higher revision; an update keeps createRevision': async ({ store, p }) => {
    const first = await store.put(p + 'a', '1');
    const second = await store.put(p + 'a', '2');
    const third = await store.put(p + 'b', '3');
    assert.ok(second.revision > first.revision, 'second write above the first');
    assert.ok(third.revision > second.revision, 'third write above the second');
    const kv = await store.get(p + 'a');
    assert.equal(kv?.createRevision, first.revision);
    assert.equal(kv?.modRevision, second.revision);
  },

  'list returns only the prefix, sorted, with a revision at least the last write': async ({
    store,
    p,
  }) => {
    await store.put(p + 'b', 'B');
    await store.put(p + 'a', 'A');
    const last = await store.put(p + 'c/d', 'D');
    await store.put(p.slice(0, -1) + 'x', 'outside');
    const listing = await store.list(p);
    assert.deepEqual(
      listing.items.map((kv) => [kv.key, kv.value]),
      [
        [p + 'a', 'A'],
        [p + 'b', 'B'],
        [p + 'c/d', 'D'],
      ],
    );
    assert.ok(listing.revision >= last.revision);
    assert.equal(listing.more, false);
    assert.deepEqual((await store.list(p + 'none/')).items, []);
  },

  'list pages stay consistent at the first page revision despite writes in between': async ({
    store,
    p,
  }) => {
    for (let i = 0; i < 7; i++) await store.put(`${p}k${i}`, `v${i}`);
    const first = await store.list(p, { limit: 3 });
    assert.deepEqual(keysOf(first.items), [p + 'k0', p + 'k1', p + 'k2']);
    assert.equal(first.more, true);
    await store.delete(p + 'k4');
    await store.put(p + 'k5', 'changed');
    await store.put(p + 'k9', 'new');
    const rest = await store.list(p, { after: p + 'k2', revision: first.revision });
    assert.equal(rest.revision, first.revision);
    assert.deepEqual(
      rest.items.map((kv) => [kv.key, kv.value]),
      [
        [p + 'k3', 'v3'],
        [p + 'k4', 'v4'],
        [p + 'k5', 'v5'],
        [p + 'k6', 'v6'],
      ],
    );
    const now = await store.list(p);
    assert.deepEqual(
      keysOf(now.items),
      ['k0', 'k1', 'k2', 'k3', 'k5', 'k6', 'k9'].map((k) => p + k),
    );
  },

  'put with ifModRevision 0 creates only when absent': async ({ store, p }) => {
    assert.equal((await store.put(p + 'a', '1', { ifModRevision: 0 })).succeeded, true);
    assert.equal((await store.put(p + 'a', '2', { ifModRevision: 0 })).succeeded, false);
    assert.equal((await store.get(p + 'a'))?.value, '1');
  },

  'put and delete with ifModRevision are compare-and-swap': async ({ store, p }) => {
    const created = await store.put(p + 'a', '1');
    const stale = { ifModRevision: created.revision + 1000 };
    assert.equal((await store.put(p + 'a', '2', stale)).succeeded, false);
    const swapped = await store.put(p + 'a', '2', { ifModRevision: created.revision });
    assert.equal(swapped.succeeded, true);
    const old = { ifModRevision: created.revision };
    assert.equal((await store.delete(p + 'a', old)).succeeded, false);
    assert.equal((await store.get(p + 'a'))?.value, '2');
    const current = { ifModRevision: swapped.revision };
    assert.equal((await store.delete(p + 'a', current)).succeeded, true);
    assert.equal(await store.get(p + 'a'), undefined);
  },

  'deleting an absent key succeeds and changes nothing': async ({ store, p }) => {
    const before = await store.put(p + 'other', 'x');
    const result = await store.delete(p + 'absent');
    assert.equal(result.succeeded, true);
    assert.equal((await store.list(p)).items.length, 1);
    assert.ok(result.revision >= before.revision);
  },

  'txn applies all operations at one revision, or none when a compare fails': async ({
    store,
    p,
  }) => {
    const a = await store.put(p + 'a', 'A');
    const ok = await store.txn(
      [
        { key: p + 'a', modRevision: a.revision },
        { key: p + 'b', exists: false },
      ],
      [
        { type: 'put', key: p + 'b', value: 'B' },
        { type: 'delete', key: p + 'a' },
      ],
    );
    assert.equal(ok.succeeded, true);
    assert.equal((await store.get(p + 'b'))?.modRevision, ok.revision);
    assert.equal(await store.get(p + 'a'), undefined);

    const failed = await store.txn(
      [
        { key: p + 'b', exists: true },
        { key: p + 'a', exists: true },
      ],
      [
        { type: 'put', key: p + 'c', value: 'C' },
        { type: 'delete', key: p + 'b' },
      ],
    );
    assert.equal(failed.succeeded, false);
    assert.equal(await store.get(p + 'c'), undefined);
    assert.equal((await store.get(p + 'b'))?.value, 'B');
  },

  'txn prefix compare holds when nothing under the prefix changed after the revision': async ({
    store,
    p,
  }) => {
    const base = await store.put(p + 'subs/one', '1');
    const empty = { prefix: p + 'none/', maxModRevision: 0 };
    const put = (key: string) => [{ type: 'put' as const, key: p + key, value: '1' }];
    assert.equal((await store.txn([empty], put('x'))).succeeded, true);
    const unchanged = { prefix: p + 'subs/', maxModRevision: base.revision };
    assert.equal((await store.txn([unchanged], put('y'))).succeeded, true);
    await store.put(p + 'subs/two', '2');
    assert.equal((await store.txn([unchanged], put('z'))).succeeded, false);
    assert.equal(await store.get(p + 'z'), undefined);
  },

  'concurrent compare-and-swaps on one key: exactly one wins each round': async ({ store, p }) => {
    let current = await store.put(p + 'counter', '0');
    for (let round = 1; round <= 3; round++) {
      const from = current.revision;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.put(p + 'counter', `${round}:${i}`, { ifModRevision: from }),
        ),
      );
      const winners = results.filter((r) => r.succeeded);
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} writers won`);
      current = winners[0];
    }
  },

  'concurrent referential writes never leave a dangling reference': async ({ store, p }) => {
    for (let round = 0; round < 5; round++) {
      const fn = `${p}fn/${round}`;
      const made = await store.put(fn, 'f');
      const subs = `${p}subs/${round}/`;
      const [subscribed, removed] = await Promise.all([
        store.txn([{ key: fn, exists: true }], [{ type: 'put', key: subs + 's', value: fn }]),
        store.txn(
          [
            { prefix: subs, maxModRevision: 0 },
            { key: fn, modRevision: made.revision },
          ],
          [{ type: 'delete', key: fn }],
        ),
      ]);
      assert.ok(!(subscribed.succeeded && removed.succeeded), 'both writes succeeded');
      const dangling = (await store.get(subs + 's')) && !(await store.get(fn));
      assert.ok(!dangling, 'a subscription names a deleted function');
    }
  },

  'watch delivers changes from fromRevision in order, one batch per transaction': async ({
    store,
    p,
    watchTimeout,
  }) => {
    const start = await store.put(p + 'before', '0');
    const w = collectWatch(store, p, start.revision + 1);
    try {
      await store.put(p + 'a', '1');
      await store.txn(
        [],
        [
          { type: 'put', key: p + 'b', value: '2' },
          { type: 'put', key: p + 'c', value: '3' },
        ],
      );
      await store.put(p.slice(0, -1) + '-outside', 'x');
      await store.delete(p + 'a');
      const changes = await w.until((all) => all.length >= 4, watchTimeout);
      assert.deepEqual(
        changes.map((c) => [c.type, c.key]),
        [
          ['put', p + 'a'],
          ['put', p + 'b'],
          ['put', p + 'c'],
          ['delete', p + 'a'],
        ],
      );
      const txnBatch = w.batches.find((b) => b.changes.some((c) => c.key === p + 'b'));
      assert.ok(
        txnBatch?.changes.some((c) => c.key === p + 'c'),
        "a transaction's changes split",
      );
      const revisions = w.batches.map((b) => b.revision);
      assert.deepEqual(
        [...revisions].sort((x, y) => x - y),
        revisions,
      );
    } finally {
      w.close();
    }
  },

  'watch from an older revision replays what happened since': async ({
    store,
    p,
    watchTimeout,
    resumes,
  }) => {
    const first = await store.put(p + 'a', '1');
    await store.put(p + 'a', '2');
    await store.delete(p + 'a');
    const w = collectWatch(store, p, first.revision);
    try {
      await w.until((all) => all.length >= 3 || w.others.length > 0, watchTimeout);
      if (w.others.length > 0) {
        assert.ok(!resumes, `the watch ended: ${JSON.stringify(w.others[0])}`);
        assert.equal(w.others[0].type, 'reset');
      } else {
        const changes = w.batches.flatMap((b) => b.changes);
        assert.deepEqual(
          changes.map((c) => c.type),
          ['put', 'put', 'delete'],
        );
        assert.equal(changes[1].value, '2');
      }
    } finally {
      w.close();
    }
  },

  'watch from a compacted revision reports a reset': async ({ store, p, harness }) => {
    const first = await store.put(p + 'a', '1');
    await store.put(p + 'a', '2');
    const last = await store.put(p + 'a', '3');
    await harness.compact(last.revision);
    const events: WatchEvent[] = [];
    const watch = store.watch(p, first.revision + 1, (e) => events.push(e));
    try {
      await waitUntil(() => events.some((e) => e.type === 'reset'));
      assert.ok(!events.some((e) => e.type === 'changes' && e.changes.length > 0));
    } finally {
      watch.close();
    }
  },

  'a closed watch delivers nothing more': async ({ store, p }) => {
    const start = await store.put(p + 'a', '0');
    const w = collectWatch(store, p, start.revision + 1);
    w.close();
    await store.put(p + 'a', '1');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(w.batches.length, 0);
  },

  'close is idempotent and later calls fail with GatewayClosedError': async ({ store, p }) => {
    await store.close();
    await store.close();
    await assert.rejects(store.get(p + 'a'), GatewayClosedError);
    await assert.rejects(store.put(p + 'a', '1'), GatewayClosedError);
  },
};

/** Polls until `predicate` holds; rejects after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('waitUntil: condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
