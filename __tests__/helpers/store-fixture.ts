import { ConfigCache, type Store } from '../../lib';
import {
  startStoreServer,
  type ConnectOptions,
  type StoreKind,
  type StoreServer,
} from './store-servers';
import { TcpProxy } from './tcp-proxy';

/** One server of a kind for a test file, started before its tests and removed after them. */
export function storeFixture(kind: StoreKind) {
  const state: { server: StoreServer } = {} as never;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  beforeAll(async () => {
    state.server = await startStoreServer(kind);
  }, 60_000);
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await state.server?.dispose();
  });
  const fixture = {
    get server() {
      return state.server;
    },
    /** Registers something to undo after the test. */
    later(cleanup: () => Promise<unknown> | unknown) {
      cleanups.push(cleanup);
    },
    /** A store talking to the server directly. */
    store(options: ConnectOptions = {}) {
      const store = state.server.connect(options);
      cleanups.push(() => store.close());
      return store;
    },
    /** A store talking to the server through a proxy that the test can cut. */
    async proxied(options: ConnectOptions = {}) {
      const proxy = await TcpProxy.start(state.server.port);
      const store = state.server.connect({ requestTimeout: 1500, ...options, port: proxy.port });
      cleanups.push(
        () => proxy.close(),
        () => store.close(),
      );
      return { proxy, store };
    },
    /** A started cache over a store. */
    cache(
      store: Store,
      prefix: string,
      options: ConstructorParameters<typeof ConfigCache>[2] = {},
    ) {
      const cache = new ConfigCache(store, prefix, {
        resyncInterval: 0,
        retryDelay: 50,
        maxRetryDelay: 500,
        ...options,
      });
      cache.start();
      cleanups.push(() => cache.close());
      return cache;
    },
  };
  return fixture;
}

/** Every key and value under a prefix, in the store. */
export async function storeDump(store: Store, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let after: string | undefined;
  let revision: number | undefined;
  for (;;) {
    const page = await store.list(prefix, { limit: 500, after, revision });
    revision = page.revision;
    for (const kv of page.items) out[kv.key] = kv.value;
    if (!page.more) return out;
    after = page.items[page.items.length - 1].key;
  }
}

/** Every key and value in a cache. */
export function cacheDump(cache: ConfigCache): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of cache.entries()) out[kv.key] = kv.value;
  return out;
}

/** Waits until the cache holds exactly what the store holds under the prefix. */
export async function expectConverged(
  cache: ConfigCache,
  store: Store,
  prefix: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let expected = await storeDump(store, prefix);
  for (;;) {
    const actual = cacheDump(cache);
    if (JSON.stringify(sorted(actual)) === JSON.stringify(sorted(expected))) return;
    if (Date.now() > deadline) {
      expect(sorted(actual)).toEqual(sorted(expected));
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
    expected = await storeDump(store, prefix);
  }
}

export function sorted(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
