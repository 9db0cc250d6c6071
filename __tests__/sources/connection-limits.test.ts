// The host's limits on each space's connections (`limits` of createGateway): how many a space may
// hold, and how often its schedules may tick. Hostile tenants through the gateway and through the
// Configuration API: refused with LimitExceededError (LIMIT_EXCEEDED, 422), nothing changed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  createConfigHandler,
  createGateway,
  LimitExceededError,
  MemoryStore,
  type Gateway,
} from '../../lib';
import { dump, expectRefused, gatewayFixture } from '../helpers/gateway';

const newGateway = gatewayFixture();

const schedule = (connectionId: string, cron: string, space = 'default') => ({
  space,
  connectionId,
  type: 'schedule' as const,
  source: { cron },
  eventType: 'tick',
});

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function serve(gateway: Gateway): Promise<string> {
  const server = createServer(createConfigHandler(gateway));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/spaces`;
}

async function call(method: string, url: string, body: unknown) {
  const res = await request(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as unknown };
}

describe('connectionsPerSpace', () => {
  test('a space holds at most that many; other spaces are counted apart; a delete makes room', async () => {
    const { gateway, store } = await newGateway(new MemoryStore(), {
      connections: false,
      limits: { connectionsPerSpace: 2 },
    });
    await gateway.createConnection(schedule('a', '0 3 * * *'));
    await gateway.createConnection(schedule('b', '0 4 * * *'));
    await expectRefused(store, () => gateway.createConnection(schedule('c', '0 5 * * *')), {
      code: 'LIMIT_EXCEEDED',
      status: 422,
      message: `Connection "c" cannot be created: space "default" has 2 connections, the most it may hold (the gateway's "limits.connectionsPerSpace" is 2).`,
    });
    const error = await gateway.createConnection(schedule('c', '0 5 * * *')).catch((e) => e);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect(error).toMatchObject({ limit: 'connectionsPerSpace', max: 2, space: 'default' });
    // An update is no create: it stays within the count.
    await gateway.updateConnection({ ...schedule('b', '0 6 * * *') });
    await gateway.createConnection(schedule('c', '0 5 * * *', 'other'));
    await gateway.deleteConnection({ connectionId: 'a' });
    await gateway.createConnection(schedule('c', '0 5 * * *'));
    expect(gateway.listConnections().map((c) => c.connectionId)).toEqual(['b', 'c']);
  });

  test('0 allows none; concurrent creates on two instances never pass the limit together', async () => {
    const { gateway: none, store: bare } = await newGateway(new MemoryStore(), {
      connections: false,
      limits: { connectionsPerSpace: 0 },
    });
    await expectRefused(bare, () => none.createConnection(schedule('a', '0 3 * * *')), {
      code: 'LIMIT_EXCEEDED',
      message: /has 0 connections/,
    });

    const store = new MemoryStore();
    const options = { connections: false as const, limits: { connectionsPerSpace: 3 } };
    const { gateway: one } = await newGateway(store, options);
    const { gateway: two } = await newGateway(store, options);
    const writes = Array.from({ length: 12 }, (_, i) =>
      (i % 2 ? one : two).createConnection(schedule(`c${i}`, '0 3 * * *')),
    );
    const outcomes = await Promise.allSettled(writes);
    const created = outcomes.filter((o) => o.status === 'fulfilled');
    expect(created).toHaveLength(3);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'LIMIT_EXCEEDED' });
    }
    expect(Object.keys(await dump(store))).toHaveLength(3);
  });
});

test('under a count limit, 30 creates at once on one instance all land (they take turns, not fail on contention)', async () => {
  const store = new MemoryStore();
  const options = { connections: false as const, limits: { connectionsPerSpace: 1000 } };
  const { gateway } = await newGateway(store, options);
  const outcomes = await Promise.allSettled(
    Array.from({ length: 30 }, (_, i) => gateway.createConnection(schedule(`c${i}`, '0 3 * * *'))),
  );
  expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
  expect(gateway.listConnections()).toHaveLength(30);
});

describe('minScheduleInterval', () => {
  test('a schedule that ticks more often is refused on create and on update, however it is spelled', async () => {
    const { gateway, store } = await newGateway(new MemoryStore(), {
      connections: false,
      limits: { minScheduleInterval: 60_000 },
    });
    for (const [cron, gap] of [
      ['* * * * * *', 1],
      ['*/30 * * * * *', 30],
      // Rare ticks, but two of them a second apart (the end of a minute and the next one's start).
      ['0,59 * * * * *', 1],
      ['0,59 59 * * * *', 59],
      // The last minute of an hour and the first of the next: 60 s, the limit itself.
      ['0 0,59 * * * *', 60],
      ['0 0 0,23 * * *', 3600],
      ['0-1 0 0 * * *', 1],
    ] as const) {
      const expected = gap * 1000 < 60_000;
      const write = gateway.createConnection(schedule('hot', cron));
      if (!expected) {
        await write;
        await gateway.deleteConnection({ connectionId: 'hot' });
        continue;
      }
      await write.then(
        () => {
          throw new Error(`${cron} was taken`);
        },
        (error: unknown) =>
          expect(error).toMatchObject({
            code: 'LIMIT_EXCEEDED',
            limit: 'minScheduleInterval',
            max: 60_000,
            message: `Connection "hot" cannot be written: its schedule ticks ${gap} s apart, and the gateway's "limits.minScheduleInterval" is 60 s.`,
          }),
      );
    }
    // Every minute, every hour, once a day: taken.
    for (const cron of ['* * * * *', '0 * * * *', '0 3 * * *', '0 0 * * * *']) {
      await gateway.createConnection(schedule('ok', cron));
      await gateway.deleteConnection({ connectionId: 'ok' });
    }
    await gateway.createConnection(schedule('slow', '*/5 * * * *'));
    await expectRefused(store, () => gateway.updateConnection(schedule('slow', '*/5 * * * * *')), {
      code: 'LIMIT_EXCEEDED',
      status: 422,
      message: /ticks 5 s apart/,
    });
    // An expression the schedule parser refuses is a validation error at write time.
    await expectRefused(store, () => gateway.createConnection(schedule('bad', '99 * * * *')), {
      code: 'VALIDATION_FAILED',
      status: 400,
      message: /"source.cron" is not a valid schedule/,
    });
  });
});

test('through the Configuration API: 422 with the reason, and nothing written', async () => {
  const { gateway, store } = await newGateway(new MemoryStore(), {
    connections: false,
    limits: { connectionsPerSpace: 1, minScheduleInterval: 10_000 },
  });
  const api = await serve(gateway);
  const ok = await call('POST', `${api}/default/connections`, schedule('a', '*/10 * * * * *'));
  expect(ok.status).toBe(201);
  const before = await dump(store);
  const many = await call('POST', `${api}/default/connections`, schedule('b', '0 3 * * *'));
  expect(many).toEqual({
    status: 422,
    body: { errors: [{ message: expect.stringMatching(/limits.connectionsPerSpace/) }] },
  });
  const hot = await call('PUT', `${api}/default/connections/a`, schedule('a', '* * * * * *'));
  expect(hot).toEqual({
    status: 422,
    body: { errors: [{ message: expect.stringMatching(/ticks 1 s apart/) }] },
  });
  expect(await dump(store)).toEqual(before);
});

describe('defaults', () => {
  test('without limits, a space holds 100 connections and a bad schedule is refused when written; null lifts each', async () => {
    const { gateway, store } = await newGateway(new MemoryStore(), { connections: false });
    for (let i = 0; i < 100; i++) await gateway.createConnection(schedule(`c${i}`, '0 3 * * *'));
    await expectRefused(store, () => gateway.createConnection(schedule('c100', '0 3 * * *')), {
      code: 'LIMIT_EXCEEDED',
      status: 422,
      message: /space "default" has 100 connections.*"limits.connectionsPerSpace" is 100/,
    });
    await gateway.createConnection(schedule('c100', '0 3 * * *', 'other'));
    // Every second is the finest a cron expression ticks: allowed; a bad expression is not stored.
    await gateway.createConnection(schedule('every-second', '* * * * * *', 'other'));
    await expectRefused(
      store,
      () => gateway.createConnection(schedule('bad', '61 * * * *', 'other')),
      {
        code: 'VALIDATION_FAILED',
        status: 400,
        message: /"source.cron" is not a valid schedule/,
      },
    );

    const unlimited = await newGateway(new MemoryStore(), {
      connections: false,
      limits: { connectionsPerSpace: null, minScheduleInterval: null },
    });
    for (let i = 0; i < 101; i++) {
      await unlimited.gateway.createConnection(schedule(`c${i}`, '0 3 * * *'));
    }
    // Not parsed when written without the limit: reported when the schedule starts.
    await unlimited.gateway.createConnection(schedule('bad', '61 * * * *', 'other'));
    expect(unlimited.gateway.listConnections({ space: 'default' })).toHaveLength(101);
  });

  test('a limit given keeps the default of the other', async () => {
    const { gateway, store } = await newGateway(new MemoryStore(), {
      connections: false,
      limits: { connectionsPerSpace: 150 },
    });
    for (let i = 0; i < 101; i++) await gateway.createConnection(schedule(`c${i}`, '0 3 * * *'));
    await expectRefused(store, () => gateway.createConnection(schedule('bad', '61 * * * *')), {
      code: 'VALIDATION_FAILED',
      status: 400,
      message: /"source.cron" is not a valid schedule/,
    });
    const slow = await newGateway(new MemoryStore(), {
      connections: false,
      limits: { minScheduleInterval: 60_000 },
    });
    for (let i = 0; i < 100; i++) {
      await slow.gateway.createConnection(schedule(`c${i}`, '0 3 * * *'));
    }
    await expectRefused(
      slow.store,
      () => slow.gateway.createConnection(schedule('c100', '0 3 * * *')),
      {
        code: 'LIMIT_EXCEEDED',
        status: 422,
        message: /"limits.connectionsPerSpace" is 100/,
      },
    );
  });
});

test('createGateway refuses limits that are not limits', () => {
  for (const limits of [
    'ten',
    [],
    { connectionsPerSpace: -1 },
    { connectionsPerSpace: 1.5 },
    { connectionsPerSpace: Number.NaN },
    { connectionsPerSpace: '5' },
    { connectionsPerSpace: Infinity },
    { minScheduleInterval: 0 },
    { minScheduleInterval: -1000 },
    { minScheduleInterval: 2 ** 31 },
    { minScheduleInterval: '60000' },
    { everySecond: false },
    null,
    { connectionsPerSpace: false },
    { minScheduleInterval: false },
  ]) {
    expect(() => createGateway(undefined, { connections: false, limits } as never)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  }
});

test('a schedule in a time zone this runtime does not know is refused when written', async () => {
  const { gateway, store } = await newGateway(new MemoryStore(), { connections: false });
  for (const timezone of ['Nowhere/Land', '+02:00', '../../etc/passwd']) {
    await expectRefused(
      store,
      () =>
        gateway.createConnection({
          ...schedule('zoned', '0 3 * * *'),
          source: { cron: '0 3 * * *', timezone },
        }),
      {
        code: 'VALIDATION_FAILED',
        status: 400,
        message: /"source.timezone" must be an IANA time zone/,
      },
    );
  }
  await gateway.createConnection({
    ...schedule('zoned', '0 3 * * *'),
    source: { cron: '0 3 * * *', timezone: 'Europe/Paris' },
  });
});
