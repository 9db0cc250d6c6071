import { subscriptionId } from '../../lib';
import { expectRefused, gatewayFixture } from '../helpers/gateway';

const setup = gatewayFixture();

async function withFunction() {
  const fixture = await setup();
  await fixture.gateway.registerFunction({ functionId: 'test', handler: () => 'ok' });
  await fixture.gateway.createEventType({ name: 'test.event' });
  return fixture;
}

describe('subscriptions', () => {
  test('IDs are Event Gateway 0.9 IDs, with its defaults (path "/", method POST)', async () => {
    const { gateway } = await withFunction();
    const sub = await gateway.subscribe({
      type: 'async',
      eventType: 'test.event',
      functionId: 'test',
    });
    expect(sub).toEqual({
      space: 'default',
      subscriptionId: 'YXN5bmMsdGVzdC5ldmVudCx0ZXN0LCUyRixQT1NU',
      type: 'async',
      eventType: 'test.event',
      functionId: 'test',
      path: '/',
      method: 'POST',
    });
    expect(gateway.getSubscription({ subscriptionId: sub.subscriptionId })).toEqual(sub);
    const sync = await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'test',
      path: 'users/:id',
      method: 'get',
    });
    expect(sync.path).toBe('/users/:id');
    expect(sync.method).toBe('GET');
    expect(Buffer.from(sync.subscriptionId, 'base64url').toString()).toBe(
      'sync,http.request,%2Fusers%2F:id,GET',
    );
  });

  test('the path in IDs is escaped as Go url.PathEscape does', () => {
    const id = (path: string) =>
      Buffer.from(
        subscriptionId({ type: 'sync', eventType: 'e', functionId: 'f', path, method: 'GET' }),
        'base64url',
      ).toString();
    expect(id('/a b/*rest')).toBe('sync,e,%2Fa%20b%2F%2Arest,GET');
    expect(id('/x;y,z?')).toBe('sync,e,%2Fx%3By%2Cz%3F,GET');
    expect(id("/$&+:=@-_.~!'()")).toBe('sync,e,%2F$&+:=@-_.~%21%27%28%29,GET');
    expect(id('/é')).toBe('sync,e,%2F%C3%A9,GET');
  });

  test('type defaults to async; list filters on metadata; update changes only metadata', async () => {
    const { gateway } = await withFunction();
    const sub = await gateway.subscribe({
      eventType: 'test.event',
      functionId: 'test',
      metadata: { v: '1' },
    });
    expect(sub.type).toBe('async');
    expect(gateway.listSubscriptions({ metadata: { v: '1' } })).toHaveLength(1);
    expect(gateway.listSubscriptions({ metadata: { v: '2' } })).toHaveLength(0);
    const updated = await gateway.updateSubscription({
      subscriptionId: sub.subscriptionId,
      metadata: { v: '2' },
    });
    expect(updated).toEqual({ ...sub, metadata: { v: '2' } });
    expect(gateway.listSubscriptions({ metadata: { v: '2' } })).toEqual([updated]);
    await gateway.unsubscribe({ subscriptionId: sub.subscriptionId });
    expect(gateway.listSubscriptions()).toEqual([]);
  });

  test('0.9 messages for every refusal, and nothing changes', async () => {
    const { gateway, store } = await withFunction();
    const sub = await gateway.subscribe({ eventType: 'test.event', functionId: 'test' });
    await expectRefused(
      store,
      () => gateway.subscribe({ eventType: 'test.event', functionId: 'test' }),
      {
        code: 'ALREADY_EXISTS',
        status: 409,
        message: `Subscription "${sub.subscriptionId}" already exists.`,
      },
    );
    await expectRefused(
      store,
      () => gateway.subscribe({ eventType: 'missing', functionId: 'test' }),
      {
        code: 'CONFLICT',
        status: 400,
        message: 'Event Type "missing" not found.',
      },
    );
    await expectRefused(
      store,
      () => gateway.subscribe({ eventType: 'test.event', functionId: 'missing' }),
      {
        code: 'CONFLICT',
        status: 400,
        message: 'Function "missing" not found.',
      },
    );
    await expectRefused(store, () => gateway.unsubscribe({ subscriptionId: 'nope' }), {
      code: 'NOT_FOUND',
      status: 404,
      message: 'Subscription "nope" not found.',
    });
    await expectRefused(
      store,
      () => gateway.updateSubscription({ subscriptionId: sub.subscriptionId, path: '/other' }),
      {
        code: 'VALIDATION_FAILED',
        status: 400,
        message: "Invalid update. 'path' of existing subscription cannot be updated.",
      },
    );
    await expectRefused(
      store,
      () => gateway.updateSubscription({ subscriptionId: sub.subscriptionId, method: 'GET' }),
      {
        code: 'VALIDATION_FAILED',
        message: "Invalid update. 'method' of existing subscription cannot be updated.",
      },
    );
    await expectRefused(
      store,
      () => gateway.updateSubscription({ subscriptionId: sub.subscriptionId, functionId: 'other' }),
      {
        code: 'VALIDATION_FAILED',
        message: "Invalid update. 'functionId' of existing subscription cannot be updated.",
      },
    );
  });

  test('http.request needs no event type; created explicitly it behaves like any other', async () => {
    const { gateway, store } = await withFunction();
    const sub = await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'test',
      method: 'GET',
      path: '/hello',
    });
    await gateway.createEventType({ name: 'http.request', authorizerId: 'test' });
    expect(gateway.getEventType({ name: 'http.request' }).authorizerId).toBe('test');
    await expectRefused(store, () => gateway.deleteEventType({ name: 'http.request' }), {
      code: 'CONFLICT',
      message: 'Event type cannot be deleted because there are subscriptions using it.',
    });
    await gateway.unsubscribe({ subscriptionId: sub.subscriptionId });
    await gateway.deleteEventType({ name: 'http.request' });
    await gateway.subscribe({ eventType: 'http.request', functionId: 'test' });
  });

  test('sync path conflicts: same shape refused; static, param and wildcard routes coexist', async () => {
    const { gateway, store } = await withFunction();
    const sync = (path: string, extra: object = {}) =>
      gateway.subscribe({
        type: 'sync',
        eventType: 'http.request',
        functionId: 'test',
        method: 'GET',
        path,
        ...extra,
      });
    await sync('/users/:id');
    await expectRefused(store, () => sync('/users/:name'), {
      code: 'CONFLICT',
      status: 400,
      message: /^Subscription path conflict: GET \/users\/:name overlaps \/users\/:id/,
    });
    await sync('/users/me');
    await sync('/users/*rest');
    await sync('/users/:id/posts');
    await expectRefused(store, () => sync('/users/*all'), {
      code: 'CONFLICT',
      message: /path conflict/,
    });
    // Same path, other method, other event type, other space: no conflict.
    await sync('/users/:name', { method: 'POST' });
    await gateway.createEventType({ name: 'custom' });
    await sync('/users/:name', { eventType: 'custom' });
    await gateway.registerFunction({ space: 'other', functionId: 'test', handler: () => 1 });
    await sync('/users/:name', { space: 'other' });
    // Async subscriptions on the same path never conflict.
    await gateway.subscribe({
      type: 'async',
      eventType: 'http.request',
      functionId: 'test',
      method: 'GET',
      path: '/users/:name',
    });
    // Once the route that held the shape is gone, another may take it.
    const held = gateway
      .listSubscriptions()
      .find((s) => s.type === 'sync' && s.method === 'GET' && s.path === '/users/:id');
    await gateway.unsubscribe({ subscriptionId: held!.subscriptionId });
    await sync('/users/:name');
    await expectRefused(store, () => sync('/users/:other'), {
      code: 'CONFLICT',
      message: /overlaps \/users\/:name/,
    });
  });

  test.each([
    [
      { eventType: 'test.event', functionId: 'test', type: 'fanout' },
      /"type" must be "async" or "sync"/,
    ],
    [
      { eventType: 'test.event', functionId: 'test', method: 'TRACE' },
      /"method" must be one of GET, POST/,
    ],
    [
      { eventType: 'test.event', functionId: 'test', path: '/a//b' },
      /"path" must not contain empty segments/,
    ],
    [
      { eventType: 'test.event', functionId: 'test', path: '/a/*rest/b' },
      /wildcard only as its last segment/,
    ],
    [
      { eventType: 'test.event', functionId: 'test', path: '/a/:' },
      /invalid parameter segment ":"/,
    ],
    [
      { eventType: 'test.event', functionId: 'test', path: '/a?b=1' },
      /must not contain whitespace, "\?" or "#"/,
    ],
    [{ eventType: 'bad type', functionId: 'test' }, /"eventType" must match/],
    [{ eventType: 'test.event' }, /"functionId" is required/],
    [{ eventType: 'test.event', functionId: 'test', subscriptionId: 'chosen' }, /cannot be chosen/],
  ])('invalid input %j is a ValidationError', async (input, message) => {
    const { gateway, store } = await withFunction();
    await expectRefused(store, () => gateway.subscribe(input as never), {
      code: 'VALIDATION_FAILED',
      status: 400,
      message: new RegExp(
        `^Subscription doesn't validate\\. Validation error: .*${message.source}`,
      ),
    });
  });
});
