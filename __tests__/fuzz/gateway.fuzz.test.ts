import fc from 'fast-check';
import { GatewayError, MemoryStore, type Gateway } from '../../lib';
import { deliveryGateways } from '../helpers/delivery-gateway';
import { dump } from '../helpers/gateway';
import { fuzzParameters, fuzzTimeout, ODD_VALUES } from './fuzz-settings';

const newGateway = deliveryGateways({ initialDelay: 1, maxDelay: 2, maxAttempts: 2 });
const odd = fc.constantFrom(...ODD_VALUES);
/** A value of any kind: JSON, odd values, or objects mixing both. */
const anyValue = fc.oneof(
  odd,
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom('url', 'timeout', 'name', 'functionId', 'space', '__proto__'), odd),
);

test(
  'emit: any input resolves or rejects with a GatewayError; nothing else escapes',
  async () => {
    const { gateway } = await newGateway();
    await gateway.registerFunction({ functionId: 'sink', handler: () => undefined });
    await gateway.createEventType({ name: 'user.created' });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'sink' });
    const event = fc.record(
      {
        specversion: fc.oneof(fc.constant('1.0'), odd),
        id: fc.oneof(fc.constant('1'), odd),
        source: fc.oneof(fc.constant('/s'), odd),
        type: fc.oneof(fc.constant('user.created'), odd),
        data: anyValue,
        time: odd,
        ext: odd,
        cloudEventsVersion: fc.constantFrom('0.1', undefined),
        extensions: anyValue,
      },
      { requiredKeys: ['specversion', 'id', 'source', 'type'] },
    );
    const options = fc.record(
      { space: odd, path: fc.oneof(fc.constant('/'), odd), method: odd, wait: odd },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(event, anyValue), options, async (input, opts) => {
        const outcome = await gateway.emit(input as never, opts as never).then(
          () => 'resolved',
          (error: unknown) => error,
        );
        if (outcome !== 'resolved') expect(outcome).toBeInstanceOf(GatewayError);
      }),
      fuzzParameters(400),
    );
    const m = gateway.metrics();
    await gateway.close();
    expect(gateway.metrics().deliveriesAccepted).toBe(
      gateway.metrics().deliveriesSucceeded + gateway.metrics().deliveriesDeadLettered,
    );
    expect(m.eventsReceived + m.eventsRejected).toBeGreaterThan(0);
  },
  fuzzTimeout(),
);

test(
  'configuration: any input is applied or refused with a GatewayError, and a refused write changes nothing',
  async () => {
    const store = new MemoryStore();
    const { gateway } = await newGateway({}, store);
    await gateway.registerFunction({
      functionId: 'fn1',
      type: 'http',
      provider: { url: 'http://127.0.0.1:9/' },
    });
    await gateway.createEventType({ name: 'user.created' });
    const input = fc.dictionary(
      fc.constantFrom(
        'space',
        'functionId',
        'type',
        'provider',
        'handler',
        'retry',
        'metadata',
        'name',
        'authorizerId',
        'eventType',
        'method',
        'path',
        'subscriptionId',
        'corsId',
        'allowedOrigins',
        'allowedHeaders',
        'allowedMethods',
        'allowCredentials',
      ),
      fc.oneof(
        anyValue,
        fc.constantFrom(
          'fn1',
          'user.created',
          'http',
          'local',
          'sync',
          'async',
          'GET',
          '/a/:b',
          'default',
        ),
        fc.record({
          url: fc.constantFrom(
            'http://169.254.169.254/',
            'http://u:p@127.0.0.1:9/x',
            'ftp://x',
            'http://[fd00:ec2::254]/',
          ),
        }),
        fc.array(fc.constantFrom('*', 'https://*.x.com', 'X-Ok', 'Bad Header', '\r\n'), {
          maxLength: 3,
        }),
      ),
      { maxKeys: 6 },
    );
    const methods: (keyof Gateway)[] = [
      'registerFunction',
      'updateFunction',
      'deleteFunction',
      'createEventType',
      'updateEventType',
      'deleteEventType',
      'subscribe',
      'updateSubscription',
      'unsubscribe',
      'createCors',
      'updateCors',
      'deleteCors',
      'invoke',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...methods),
        fc.oneof(input, anyValue),
        async (method, value) => {
          const before = await dump(store);
          const revision = store.revision;
          const outcome = await Promise.resolve()
            .then(() => (gateway[method] as (arg: unknown) => unknown).call(gateway, value))
            .then(
              () => 'applied',
              (error: unknown) => error,
            );
          if (outcome === 'applied') return;
          expect(outcome).toBeInstanceOf(GatewayError);
          expect(store.revision).toBe(revision);
          expect(await dump(store)).toEqual(before);
        },
      ),
      fuzzParameters(400),
    );
  },
  fuzzTimeout(),
);

/** What a handler may do: return, throw or reject with any value, hang, answer a thenable. */
const behaviour = fc.oneof(
  anyValue.map((v) => ['return', v] as const),
  anyValue.map((v) => ['throw', v] as const),
  anyValue.map((v) => ['reject', v] as const),
  fc.constant(['hang', undefined] as const),
  fc.constant(['bad-then', undefined] as const),
  fc.constant(['huge', undefined] as const),
);

function act([kind, value]: readonly [string, unknown]): unknown {
  switch (kind) {
    case 'return':
      return value;
    case 'throw':
      throw value;
    case 'reject':
      return Promise.reject(value);
    case 'hang':
      return new Promise(() => undefined);
    case 'bad-then':
      return {
        then() {
          throw value ?? new Error('then');
        },
      };
    default:
      return { big: 'x'.repeat(1_000_000) };
  }
}

test(
  'handlers: whatever they return or throw, delivered + dead-lettered = accepted',
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(behaviour, { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 3 }),
        async (behaviours, events) => {
          const { gateway, deadLetters } = await newGateway({ timeout: 20 });
          await gateway.createEventType({ name: 'user.created' });
          for (const [i, b] of behaviours.entries()) {
            let call = 0;
            await gateway.registerFunction({
              functionId: `f${i}`,
              handler: () => act(call++ === 0 ? b : behaviours[(i + 1) % behaviours.length]),
            });
            await gateway.subscribe({ eventType: 'user.created', functionId: `f${i}` });
          }
          for (let n = 0; n <= events; n++) {
            const { outcomes } = await gateway.emit(
              { specversion: '1.0', id: String(n), source: '/s', type: 'user.created' },
              { wait: true },
            );
            expect(outcomes).toHaveLength(behaviours.length);
          }
          await gateway.close();
          const m = gateway.metrics();
          expect(m.deliveriesAccepted).toBe((events + 1) * behaviours.length);
          expect(m.deliveriesAccepted).toBe(m.deliveriesSucceeded + m.deliveriesDeadLettered);
          expect(deadLetters).toHaveLength(m.deliveriesDeadLettered);
          expect(m.deliveriesPending).toBe(0);
        },
      ),
      fuzzParameters(40),
    );
  },
  fuzzTimeout(),
);
