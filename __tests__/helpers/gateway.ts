import { createGateway, MemoryStore, type Gateway, type GatewayOptions } from '../../lib';

/** Gateways made in a test, closed after it. */
export function gatewayFixture() {
  const made: Gateway[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((g) => g.close()));
  });
  return async (store: MemoryStore = new MemoryStore(), options: GatewayOptions = {}) => {
    const gateway = createGateway(store, { resyncInterval: 0, ...options });
    made.push(gateway);
    await gateway.ready();
    return { gateway, store };
  };
}

/** Every key and value in the store: to prove a refused write changed nothing. */
export async function dump(store: MemoryStore): Promise<Record<string, string>> {
  const { items } = await store.list('/');
  return Object.fromEntries(items.map((kv) => [kv.key, kv.value]));
}

/** Expects `write` to reject with an error of that code and message and to change nothing. */
export async function expectRefused(
  store: MemoryStore,
  write: () => Promise<unknown>,
  expected: { code: string; status?: number; message: string | RegExp },
): Promise<void> {
  const before = await dump(store);
  const revision = store.revision;
  const error = await write().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeDefined();
  expect(error).toMatchObject({ code: expected.code });
  if (expected.status !== undefined) expect(error).toMatchObject({ status: expected.status });
  expect((error as Error).message).toEqual(
    typeof expected.message === 'string'
      ? expected.message
      : expect.stringMatching(expected.message),
  );
  expect(store.revision).toBe(revision);
  expect(await dump(store)).toEqual(before);
}
