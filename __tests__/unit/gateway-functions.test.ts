import { expectRefused, gatewayFixture } from '../helpers/gateway';

const setup = gatewayFixture();

describe('functions', () => {
  test('http, local and AWS functions are registered with their provider fields', async () => {
    const { gateway } = await setup();
    expect(
      await gateway.registerFunction({
        functionId: 'web',
        type: 'http',
        provider: { url: 'http://localhost:3000/hook', timeout: 2000 },
        metadata: { owner: 'me' },
      }),
    ).toEqual({
      space: 'default',
      functionId: 'web',
      type: 'http',
      provider: { url: 'http://localhost:3000/hook', timeout: 2000 },
      metadata: { owner: 'me' },
    });
    const handler = async () => 'hi';
    expect(await gateway.registerFunction({ functionId: 'local', handler })).toEqual({
      space: 'default',
      functionId: 'local',
      type: 'local',
      provider: {},
    });
    expect(gateway.localHandler('default', 'local')).toBe(handler);
    await gateway.registerFunction({
      functionId: 'lambda',
      type: 'awslambda',
      provider: {
        arn: 'arn:aws:lambda:us-east-1:1:function:f',
        region: 'us-east-1',
        awsAccessKeyId: 'AK',
        awsSecretAccessKey: 'S',
      },
    });
    await gateway.registerFunction({
      functionId: 'kin',
      type: 'awskinesis',
      provider: { streamName: 's', region: 'eu-west-1' },
    });
    await gateway.registerFunction({
      functionId: 'fh',
      type: 'awsfirehose',
      provider: { deliveryStreamName: 'd', region: 'eu-west-1' },
    });
    await gateway.registerFunction({
      functionId: 'sqs',
      type: 'awssqs',
      provider: { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q', region: 'eu-west-1' },
    });
    expect(gateway.listFunctions().map((f) => f.functionId)).toEqual([
      'fh',
      'kin',
      'lambda',
      'local',
      'sqs',
      'web',
    ]);
    expect(gateway.listFunctions({ metadata: { owner: 'me' } }).map((f) => f.functionId)).toEqual([
      'web',
    ]);
  });

  test('the stored record of a local function omits its handler', async () => {
    const { gateway, store } = await setup();
    await gateway.registerFunction({ functionId: 'f', handler: () => 1 });
    expect((await store.get('/serverless-event-gateway/functions/default/f'))?.value).toBe(
      '{"space":"default","functionId":"f","type":"local","provider":{}}',
    );
  });

  test('update replaces type and provider; a function no longer local loses its handler', async () => {
    const { gateway } = await setup();
    await gateway.registerFunction({ functionId: 'f', handler: () => 1 });
    const updated = await gateway.updateFunction({
      functionId: 'f',
      type: 'http',
      provider: { url: 'https://x.test/' },
    });
    expect(updated.type).toBe('http');
    expect(gateway.getFunction({ functionId: 'f' })).toEqual(updated);
    expect(gateway.localHandler('default', 'f')).toBeUndefined();
    const second = () => 2;
    await gateway.updateFunction({ functionId: 'f', handler: second });
    expect(gateway.localHandler('default', 'f')).toBe(second);
  });

  test('deleting a function unbinds its handler; bindLocalHandler binds one without a write', async () => {
    const { gateway, store } = await setup();
    await gateway.registerFunction({ functionId: 'f', handler: () => 1 });
    await gateway.deleteFunction({ functionId: 'f' });
    expect(gateway.localHandler('default', 'f')).toBeUndefined();
    const revision = store.revision;
    const h = () => 3;
    gateway.bindLocalHandler({ functionId: 'g', handler: h });
    expect(store.revision).toBe(revision);
    expect(gateway.localHandler('default', 'g')).toBe(h);
  });

  test('0.9 messages: already registered, not found, in use by a subscription or an authorizer', async () => {
    const { gateway, store } = await setup();
    await gateway.registerFunction({ functionId: 'f', handler: () => 1 });
    await expectRefused(
      store,
      () => gateway.registerFunction({ functionId: 'f', handler: () => 2 }),
      {
        code: 'ALREADY_EXISTS',
        status: 409,
        message: 'Function "f" already registered.',
      },
    );
    await expectRefused(
      store,
      () => gateway.updateFunction({ functionId: 'nope', handler: () => 1 }),
      {
        code: 'NOT_FOUND',
        status: 404,
        message: 'Function "nope" not found.',
      },
    );
    await expectRefused(store, () => gateway.deleteFunction({ functionId: 'nope' }), {
      code: 'NOT_FOUND',
      message: 'Function "nope" not found.',
    });
    await gateway.createEventType({ name: 'guarded', authorizerId: 'f' });
    await expectRefused(store, () => gateway.deleteFunction({ functionId: 'f' }), {
      code: 'CONFLICT',
      status: 400,
      message:
        'Function f cannot be deleted because is used as an authorizer for guarded event type.',
    });
    await gateway.registerFunction({ functionId: 'g', handler: () => 1 });
    await gateway.subscribe({ eventType: 'http.request', functionId: 'g' });
    await expectRefused(store, () => gateway.deleteFunction({ functionId: 'g' }), {
      code: 'CONFLICT',
      message: "Function cannot be deleted because it's subscribed to a least one event.",
    });
  });

  test.each([
    [{ functionId: 'f' }, /"type" is required/],
    [{ functionId: 'f', type: 'ftp', provider: {} }, /provider "ftp" not supported\./],
    [{ functionId: 'f', type: 'http' }, /"provider" of a "http" function must be an object/],
    [{ functionId: 'f', type: 'http', provider: {} }, /"provider\.url" is required/],
    [
      { functionId: 'f', type: 'http', provider: { url: 'not a url' } },
      /"provider\.url" must be an absolute URL/,
    ],
    [
      { functionId: 'f', type: 'http', provider: { url: 'ftp://x/' } },
      /must be an http: or https: URL/,
    ],
    [
      { functionId: 'f', type: 'http', provider: { url: 'http://x/', timeout: -1 } },
      /"provider\.timeout" must be a positive integer/,
    ],
    [{ functionId: 'f', type: 'http', provider: { ulr: 'http://x/' } }, /unknown field "ulr"/],
    [{ functionId: 'f', type: 'local' }, /needs a "handler" function/],
    [
      { functionId: 'f', type: 'http', provider: { url: 'http://x/' }, handler: (): number => 1 },
      /"handler" is only for "local"/,
    ],
    [
      { functionId: 'f', type: 'awslambda', provider: { arn: 'a' } },
      /"provider\.region" is required/,
    ],
    [{ functionId: 'f g', handler: (): number => 1 }, /"functionId" must match/],
    [{ functionId: 'f', handler: (): number => 1, space: 'x' }, /"space" must be at least 3/],
  ])('invalid input %j is a ValidationError', async (input, message) => {
    const { gateway, store } = await setup();
    await expectRefused(store, () => gateway.registerFunction(input as never), {
      code: 'VALIDATION_FAILED',
      status: 400,
      message: new RegExp(`^Function doesn't validate\\. Validation error: .*${message.source}`),
    });
  });
});
