import { MemoryStore, type WatchEvent, type WatchListener } from '../../lib';
import { waitUntil } from '../../lib/testing';
import { startedCaches } from '../helpers/started-caches';

const P = '/root/';

/**
 * A store as a user might write one over MemoryStore, whose peer ends every watch as soon as it
 * opens (or answers it with a reset) while listings succeed: the cache's relist-and-rewatch loop
 * must be paced whatever the store does.
 */
class EndingStore extends MemoryStore {
  override readonly name = 'EndingStore' as 'MemoryStore';
  lists = 0;
  watches = 0;
  /** How each watch ends: in the call itself, or just after it returns. */
  constructor(
    private readonly when: 'sync' | 'async',
    private readonly ending: () => WatchEvent = () => ({
      type: 'error',
      error: new Error('stream reset'),
    }),
  ) {
    super();
  }
  /** While false, watches work as MemoryStore's do. */
  hostile = true;
  /** Ends the last working watch with an error, as a dropped connection would. */
  breakWatch = () => undefined as void;
  override list(...args: Parameters<MemoryStore['list']>) {
    this.lists++;
    return super.list(...args);
  }
  override watch(prefix: string, fromRevision: number, listener: WatchListener) {
    this.watches++;
    if (!this.hostile) {
      const inner = super.watch(prefix, fromRevision, listener);
      this.breakWatch = () => {
        inner.close();
        listener({ type: 'error', error: new Error('connection reset') });
      };
      return inner;
    }
    let closed = false;
    if (this.when === 'sync') listener(this.ending());
    else setImmediate(() => !closed && listener(this.ending()));
    return { close: () => void (closed = true) };
  }
}

describe('ConfigCache pacing against a store whose watches end at once', () => {
  const make = startedCaches(P);

  test.each(['async', 'sync'] as const)(
    'a watch that errors as it opens (%s) backs off, keeps retrying and reports counted errors',
    async (when) => {
      const store = new EndingStore(when);
      await store.put(P + 'a', '1');
      const cache = make(store);
      const errors: string[] = [];
      cache.on('error', (e) => errors.push(e.message));
      const resyncs: string[] = [];
      cache.on('resync', (reason) => resyncs.push(reason));
      await cache.ready();
      await new Promise((r) => setTimeout(r, 2500));
      // Unpaced, the async store saw tens of thousands of listings in 2.5 s, the sync one stopped
      // at one (the cache believed it was watching: changes were lost).
      expect(store.lists).toBeGreaterThanOrEqual(4);
      expect(store.lists).toBeLessThanOrEqual(30);
      expect(store.watches).toBe(store.lists);
      expect(resyncs.length).toBe(store.lists - 1);
      // One error for the first end, then one per doubling of the count, which it names.
      expect(errors.length).toBeLessThanOrEqual(Math.floor(Math.log2(store.lists)) + 1);
      expect(errors[0]).toBe('stream reset');
      expect(errors.at(-1)).toMatch(/watch|stream reset/);
      expect(cache.lastError).toMatch(/ended \d+ times in a row.*stream reset/);
      expect(cache.watching).toBe(false);
    },
  );

  test('a store that resets every watch as it opens is paced too', async () => {
    const store = new EndingStore('async', () => ({ type: 'reset', reason: 'compacted' }));
    const cache = make(store);
    await cache.ready();
    await new Promise((r) => setTimeout(r, 2500));
    expect(store.lists).toBeGreaterThanOrEqual(4);
    expect(store.lists).toBeLessThanOrEqual(30);
  });

  test('the first relist after a watch that was up is immediate, and close() cancels a wait', async () => {
    const store = new EndingStore('async');
    const cache = make(store, { retryDelay: 2000, maxRetryDelay: 2000 });
    await cache.ready();
    // Several quick ends in a row: the next relist waits up to 2 s...
    await waitUntil(() => store.lists >= 3, 10_000);
    const lists = store.lists;
    // ...but close() ends the wait at once: nothing relists afterwards and no timer holds on.
    cache.close();
    await new Promise((r) => setTimeout(r, 2100));
    expect(store.lists).toBe(lists);
  });

  test('a watch that delivered a change ends the backoff: a reconnect relists at once', async () => {
    const store = new EndingStore('async');
    const cache = make(store, { retryDelay: 3000, maxRetryDelay: 3000 });
    await cache.ready();
    await waitUntil(() => store.lists >= 3, 15_000);
    // The peer recovers: the next watch works and delivers a change. Wait for a watch opened
    // after the recovery: a hostile one still open would end and let the change arrive by a
    // relist, which proves no watch works (and then the backoff rightly stays).
    store.hostile = false;
    const hostileWatches = store.watches;
    await waitUntil(() => store.watches > hostileWatches && cache.watching, 15_000);
    const wrote = await store.put(P + 'b', '2');
    await cache.waitFor(wrote.revision);
    // Then the connection drops once: the relist follows at once, not after the backoff.
    const before = store.lists;
    store.breakWatch();
    const started = Date.now();
    await waitUntil(() => store.lists > before, 5000);
    // Immediate, where the backoff would wait 0-3 s (full jitter): 300 ms leaves room for a loaded
    // machine's event loop and fails nine times in ten if the backoff were kept.
    expect(Date.now() - started).toBeLessThan(300);
    await waitUntil(() => cache.watching, 5000);
    const later = await store.put(P + 'c', '3');
    await cache.waitFor(later.revision);
    expect(cache.get(P + 'c')?.value).toBe('3');
  });

  test('a quiet watch that stays up maxRetryDelay after a bad run clears lastError', async () => {
    const store = new EndingStore('async');
    const cache = make(store, { retryDelay: 20, maxRetryDelay: 300 });
    await cache.ready();
    await waitUntil(() => /ended \d+ times in a row/.test(cache.lastError ?? ''), 10_000);
    // The peer recovers, but nothing is written: the watch stays up without applying a change.
    store.hostile = false;
    await waitUntil(() => cache.watching, 10_000);
    expect(cache.lastError).toMatch(/ended \d+ times in a row/);
    // Before, the old message stood until some change came, however long that took.
    await waitUntil(() => cache.lastError === undefined, 3000);
    expect(cache.watching).toBe(true);
  });
});
