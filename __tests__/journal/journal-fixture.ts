import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, LocalJournal, MemoryStore, type Gateway } from '../../lib';

/**
 * A fresh journal directory for each test of the file, removed after it with the gateways the
 * test pushed on `gateways` (closed first: a LocalJournal holds its directory's lock).
 */
export function journalFixture(prefix: string): { readonly dir: string; gateways: Gateway[] } {
  let dir = '';
  const gateways: Gateway[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), prefix))));
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    gateways,
  };
}

/** A store with one event type, `user.created`, and a local function `fn` subscribed to it. */
export async function configuredStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const setup = createGateway(store, { resyncInterval: 0 });
  await setup.registerFunction({ functionId: 'fn', handler: () => undefined });
  await setup.createEventType({ name: 'user.created' });
  await setup.subscribe({ eventType: 'user.created', functionId: 'fn' });
  await setup.close();
  return store;
}

/**
 * A gateway journaling in `directory` whose function `fn` never answers (of `configuredStore`):
 * what it accepts is still unfinished when it closes (drainTimeout 10 ms).
 */
export async function neverAnswering(store: MemoryStore, directory: string): Promise<Gateway> {
  const gateway = createGateway(store, {
    resyncInterval: 0,
    drainTimeout: 10,
    journal: new LocalJournal({ directory }),
  });
  gateway.bindLocalHandler({ functionId: 'fn', handler: () => new Promise(() => undefined) });
  await gateway.ready();
  return gateway;
}
