import { GatewayError, NotFoundError, ValidationError } from '../../lib';
import { dump, expectRefused, gatewayFixture } from '../helpers/gateway';

const setup = gatewayFixture();

describe('event types', () => {
  test('create, get, list, update and delete, stored under the 0.9 key layout', async () => {
    const { gateway, store } = await setup();
    const created = await gateway.createEventType({
      name: 'user.created',
      metadata: { team: 'a' },
    });
    expect(created).toEqual({ space: 'default', name: 'user.created', metadata: { team: 'a' } });
    expect(gateway.getEventType({ name: 'user.created' })).toEqual(created);
    expect(
      JSON.parse((await dump(store))['/serverless-event-gateway/eventtypes/default/user.created']),
    ).toEqual(created);

    await gateway.createEventType({ name: 'user.deleted' });
    expect(gateway.listEventTypes().map((e) => e.name)).toEqual(['user.created', 'user.deleted']);
    expect(gateway.listEventTypes({ metadata: { team: 'a' } }).map((e) => e.name)).toEqual([
      'user.created',
    ]);

    await gateway.registerFunction({ functionId: 'auth', handler: () => ({}) });
    const updated = await gateway.updateEventType({ name: 'user.created', authorizerId: 'auth' });
    expect(updated).toEqual({ space: 'default', name: 'user.created', authorizerId: 'auth' });
    expect(gateway.getEventType({ name: 'user.created' }).authorizerId).toBe('auth');

    await gateway.deleteEventType({ name: 'user.deleted' });
    expect(() => gateway.getEventType({ name: 'user.deleted' })).toThrow(NotFoundError);
  });

  test('records returned are frozen: the cache cannot be altered through them', async () => {
    const { gateway } = await setup();
    await gateway.createEventType({ name: 'a.b', metadata: { k: 'v' } });
    const record = gateway.getEventType({ name: 'a.b' }) as {
      name: string;
      metadata: Record<string, string>;
    };
    expect(() => {
      record.name = 'x';
    }).toThrow(TypeError);
    expect(() => {
      record.metadata.k = 'changed';
    }).toThrow(TypeError);
  });

  test('messages and statuses follow Event Gateway 0.9, and a refused write changes nothing', async () => {
    const { gateway, store } = await setup();
    await gateway.createEventType({ name: 'user.created' });
    await expectRefused(store, () => gateway.createEventType({ name: 'user.created' }), {
      code: 'ALREADY_EXISTS',
      status: 409,
      message: 'Event Type "user.created" already exists.',
    });
    await expectRefused(store, () => gateway.updateEventType({ name: 'nope' }), {
      code: 'NOT_FOUND',
      status: 404,
      message: 'Event Type "nope" not found.',
    });
    await expectRefused(store, () => gateway.deleteEventType({ name: 'nope' }), {
      code: 'NOT_FOUND',
      message: 'Event Type "nope" not found.',
    });
    await expectRefused(
      store,
      () => gateway.createEventType({ name: 'x.y', authorizerId: 'missing' }),
      {
        code: 'CONFLICT',
        status: 400,
        message: "Authorizer function doesn't exists.",
      },
    );
    await gateway.registerFunction({ functionId: 'f', handler: () => 1 });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'f' });
    await expectRefused(store, () => gateway.deleteEventType({ name: 'user.created' }), {
      code: 'CONFLICT',
      status: 400,
      message: 'Event type cannot be deleted because there are subscriptions using it.',
    });
  });

  test.each([
    [{ name: '' }, /"name" is required/],
    [{ name: 'has space' }, /"name" must match/],
    [{ name: 'a/b' }, /"name" must match/],
    [{ name: 'ok', space: 'ab' }, /"space" must be at least 3 characters/],
    [{ name: 'ok', space: 'bad space' }, /"space" must match/],
    [{ name: 'ok', metadata: { n: 1 } }, /"metadata.n" must be a string/],
    [{ name: 'ok', authorizer: 'typo' }, /unknown field "authorizer"/],
  ])('invalid input %j is a ValidationError', async (input, message) => {
    const { gateway, store } = await setup();
    await expectRefused(store, () => gateway.createEventType(input as never), {
      code: 'VALIDATION_FAILED',
      status: 400,
      message: new RegExp(`^Event Type doesn't validate\\. Validation error: .*${message.source}`),
    });
  });

  test('errors are GatewayErrors with the 0.9 JSON body', async () => {
    const { gateway } = await setup();
    const error = await gateway.createEventType({ name: '' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(GatewayError);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      errors: [
        {
          message: `Event Type doesn't validate. Validation error: "name" is required and must be a non-empty string.`,
        },
      ],
    });
  });

  test('spaces never see each other', async () => {
    const { gateway } = await setup();
    await gateway.createEventType({ name: 'e.one', space: 'tenant-a' });
    expect(gateway.listEventTypes({ space: 'tenant-a' })).toHaveLength(1);
    expect(gateway.listEventTypes()).toEqual([]);
    expect(gateway.listEventTypes({ space: 'tenant-b' })).toEqual([]);
    expect(() => gateway.getEventType({ name: 'e.one' })).toThrow('Event Type "e.one" not found.');
    await gateway.createEventType({ name: 'e.one', space: 'tenant-b' });
    expect(gateway.listEventTypes({ space: 'tenant-b' })).toHaveLength(1);
  });
});
