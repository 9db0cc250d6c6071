import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  CommitUnknownError,
  createConfigHandler,
  createGateway,
  MemoryStore,
  type Compare,
  type Operation,
  type Store,
} from '../../lib';
import { waitUntil } from '../../lib/testing';

/**
 * A MemoryStore whose next transaction loses its answer, as a remote store's does when the
 * server goes away mid-commit for longer than the write may wait: applied or not, the caller
 * gets CommitUnknownError.
 */
class LosingStore extends MemoryStore {
  loseNext: 'applied' | 'not applied' | undefined;
  txns = 0;

  override async txn(compares: readonly Compare[], operations: readonly Operation[]) {
    this.txns++;
    const lose = this.loseNext;
    this.loseNext = undefined;
    if (lose === 'not applied') throw new CommitUnknownError('lost (not applied)');
    const result = await super.txn(compares, operations);
    if (lose === 'applied') throw new CommitUnknownError('lost (applied)');
    return result;
  }
}

async function gatewayOn(store: Store) {
  const gateway = createGateway(store, { resyncInterval: 0 });
  await gateway.ready();
  return gateway;
}

test('the Configuration API answers COMMIT_UNKNOWN with 504 and its message (not 503, not 500)', async () => {
  const store = new LosingStore();
  const gateway = await gatewayOn(store);
  const server = createServer(createConfigHandler(gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    store.loseNext = 'applied';
    const res = await request(`${url}/v1/spaces/default/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        functionId: 'f',
        type: 'http',
        provider: { url: 'http://127.0.0.1:1/f' },
      }),
    });
    expect(res.statusCode).toBe(504);
    expect(await res.body.json()).toEqual({ errors: [{ message: 'lost (applied)' }] });
    // It had landed: once the cache has it, it reads back.
    await waitUntil(() => gateway.listFunctions().length === 1);
    const read = await request(`${url}/v1/spaces/default/functions/f`);
    expect(read.statusCode).toBe(200);
    await read.body.dump();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.close();
  }
});

test('a write in doubt is not planned again, and a local function in doubt keeps its handler', async () => {
  const store = new LosingStore();
  const gateway = await gatewayOn(store);
  try {
    store.loseNext = 'not applied';
    const before = store.txns;
    const handler = () => 'hi';
    const error = await gateway.registerFunction({ functionId: 'f', handler }).catch((e) => e);
    expect(error).toBeInstanceOf(CommitUnknownError);
    expect(error).toMatchObject({ code: 'COMMIT_UNKNOWN', status: 504 });
    // Planning it again could run it twice (or answer ALREADY_EXISTS for a create that landed).
    expect(store.txns - before).toBe(1);
    // Had it landed, its events must find the handler here.
    expect(gateway.localHandler('default', 'f')).toBe(handler);
  } finally {
    await gateway.close();
  }
});
