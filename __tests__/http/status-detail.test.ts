import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConfigHandler, createGateway, MemoryStore, type Gateway } from '../../lib';
import type { Journal } from '../../lib/journal/journal';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A journal that cannot open, with a reason naming a private path (as real ones do). */
const unopenable: Journal = {
  open: () => Promise.reject(new Error("EACCES: permission denied, open '/srv/private/journal'")),
  record: () => Promise.resolve(),
  attempted: () => undefined,
  finished: () => undefined,
  size: () => ({ entries: 0 }),
  close: () => Promise.resolve(),
};

let gateway: Gateway;
let url: string;
const server = createServer();

beforeAll(async () => {
  gateway = createGateway(new MemoryStore(), { resyncInterval: 0, journal: unopenable });
  await expect(gateway.ready()).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
  server.on(
    'request',
    createConfigHandler(gateway, {
      apiKeys: [
        { name: 'ops', hash: sha256('ops-key'), spaces: '*', scopes: ['read'] },
        { name: 'tenant', hash: sha256('tenant-key'), spaces: ['a'], scopes: ['read', 'write'] },
      ],
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/status`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await gateway.close();
});

test('GET /v1/status needs no key, and says why not ready without the failure’s details', async () => {
  const callers: Record<string, string>[] = [
    {},
    { authorization: 'Bearer tenant-key' },
    { authorization: 'Bearer nope' },
  ];
  for (const headers of callers) {
    const res = await fetch(url, { headers });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).toMatch(/Not ready: the journal is unavailable/);
    expect(text).not.toMatch(/srv|private|EACCES/);
  }
});

test('a key that may read every space gets the details', async () => {
  const res = await fetch(url, { headers: { authorization: 'Bearer ops-key' } });
  expect(res.status).toBe(503);
  expect(await res.text()).toMatch(/the journal is unavailable: .*EACCES.*\/srv\/private\/journal/);
});
