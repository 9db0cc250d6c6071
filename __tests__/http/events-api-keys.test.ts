import { createHash } from 'node:crypto';
import { request } from 'undici';
import { createGateway, MemoryStore, type Gateway } from '../../lib';
import { SERVERS, type ApiServer } from './servers';

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

describe.each(SERVERS)('Events API keys in %s', (_name, start) => {
  let gateway: Gateway;
  let server: ApiServer;
  let delivered: string[];

  beforeEach(async () => {
    delivered = [];
    gateway = createGateway(new MemoryStore(), { resyncInterval: 0 });
    await gateway.createEventType({ name: 'user.created' });
    await gateway.registerFunction({
      functionId: 'listener',
      handler: (event) => void delivered.push((event as { id: string }).id),
    });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'listener' });
    server = await start(gateway, {
      apiKeys: [
        { hash: sha256('emitter'), spaces: ['default'], scopes: ['emit'] },
        { hash: sha256('reader'), spaces: '*', scopes: ['read'] },
      ],
    });
  });
  afterEach(async () => {
    await server.close();
    await gateway.close();
  });

  const emit = async (id: string, headers: Record<string, string> = {}) => {
    const res = await request(server.url + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', ...headers },
      body: JSON.stringify({ specversion: '1.0', id, source: '/t', type: 'user.created' }),
    });
    return { status: res.statusCode, text: await res.body.text() };
  };

  test('an event needs a key with the emit scope in its space: 401, 403, then 202', async () => {
    expect((await emit('a')).status).toBe(401);
    expect((await emit('b', { authorization: 'Bearer wrong' })).status).toBe(401);
    const reader = await emit('c', { 'x-api-key': 'reader' });
    expect(reader.status).toBe(403);
    expect(reader.text).not.toContain('reader"');
    expect((await emit('d', { authorization: 'Bearer emitter' })).status).toBe(202);
    while (gateway.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 2));
    expect(delivered).toEqual(['d']);
    expect(gateway.metrics().eventsReceived).toBe(1);
  });

  test('an http.request event does not carry the API key to the functions it reaches', async () => {
    const seen: Record<string, string>[] = [];
    await gateway.createEventType({ name: 'http.request' });
    await gateway.registerFunction({
      functionId: 'plain',
      handler: (event) =>
        void seen.push((event as { data: { headers: Record<string, string> } }).data.headers),
    });
    await gateway.subscribe({
      eventType: 'http.request',
      functionId: 'plain',
      path: '/hook',
      method: 'POST',
    });
    for (const headers of [{ authorization: 'Bearer emitter' }, { 'x-api-key': 'emitter' }]) {
      const res = await request(server.url + '/hook', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'x-trace': 'kept', ...headers },
        body: 'hello',
      });
      expect(res.statusCode).toBe(202);
      await res.body.text();
    }
    while (gateway.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 2));
    expect(seen).toHaveLength(2);
    for (const headers of seen) {
      expect(JSON.stringify(headers)).not.toContain('emitter');
      expect(headers['x-trace']).toBe('kept');
    }
  });
});
