// The source runtime: every message pulled becomes an event entered through the gateway, is
// acknowledged only after acceptance, is dead-lettered (counted, `connection.refused`, the
// dead-letter function) and acknowledged when refused, and backpressure pauses the source.
import { BackpressureError, GatewayClosedError, MemoryStore, type CloudEvent } from '../../lib';
import type { ConnectionRefusedNotice } from '../../lib/model/system-events';
import type { ConnectionRunnerOptions } from '../../lib/sources/connection-runner';
import type { Source, SourceContext, SourceMessage } from '../../lib/sources/source';
import { gatewayFixture } from '../helpers/gateway';
import { runnerFixture, until } from '../helpers/connection-runner';

const newGateway = gatewayFixture();
const newRunner = runnerFixture();

/** A message to queue: its time is 2026-01-02T03:04:05Z unless given. */
type Item = { id: string; body: Buffer | string; contentType?: string; time?: Date };

/**
 * A queue in this process behind the Source interface: it hands out its messages while not
 * paused, and records acknowledgements and releases; what is released goes back to the queue.
 */
class TestQueue {
  readonly acked: string[] = [];
  readonly released: string[] = [];
  /** The most messages in flight (delivered, not yet acked or released) seen at once. */
  maxOutstanding = 0;
  pauses = 0;
  private outstanding = 0;
  private waiting: Item[] = [];
  private context: SourceContext | undefined;
  private paused = false;
  closed = 0;

  push(...messages: Item[]): void {
    this.waiting.push(...messages);
    this.pump();
  }

  readonly factory = (context: SourceContext): Source => {
    this.context = context;
    this.paused = false;
    return {
      start: async () => this.pump(),
      pause: () => {
        this.paused = true;
        this.pauses++;
      },
      resume: () => {
        this.paused = false;
        queueMicrotask(() => this.pump());
      },
      close: async () => {
        this.closed++;
        this.context = undefined;
      },
    };
  };

  private pump(): void {
    while (this.context && !this.paused && this.waiting.length > 0) {
      const item = this.waiting.shift()!;
      this.outstanding++;
      this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
      const message: SourceMessage = {
        time: new Date('2026-01-02T03:04:05Z'),
        ...item,
        ack: async () => {
          this.outstanding--;
          this.acked.push(item.id);
        },
        release: async () => {
          this.outstanding--;
          this.released.push(item.id);
        },
      };
      this.context.deliver(message);
    }
  }
}

/** Runs `body`; resolves with the rejections left unhandled meanwhile (each would crash a host). */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    await body();
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  return rejections;
}

async function setUp(
  connection: Record<string, unknown> = {},
  options: Partial<ConnectionRunnerOptions> = {},
) {
  const store = new MemoryStore();
  const { gateway } = await newGateway(store, { maxHops: 3, connections: false });
  const delivered: CloudEvent[] = [];
  await gateway.registerFunction({
    functionId: 'sink',
    handler: (event) => void delivered.push(event as CloudEvent),
  });
  const refusedEvents: CloudEvent[] = [];
  await gateway.registerFunction({
    functionId: 'refused',
    handler: (event) => void refusedEvents.push(event as CloudEvent),
  });
  await gateway.createEventType({ name: 'order.placed' });
  await gateway.subscribe({ eventType: 'order.placed', functionId: 'sink' });
  const queue = new TestQueue();
  const notices: ConnectionRefusedNotice[] = [];
  /** For each event ID, whether its acceptance had resolved when the message was acked. */
  const acceptedAt = new Map<string, number>();
  let now = 0;
  const runner = newRunner(gateway, store, {
    sources: { kafka: queue.factory },
    refused: (notice) => void notices.push(notice),
    // Stand-in for the gateway's direct call of the function: its handler here.
    deadLetter: async (space, functionId, event) =>
      gateway.localHandler(space, functionId)?.(event, {
        space,
        functionId,
        signal: new AbortController().signal,
      }),
    entry: async (event, { space }) => {
      const result = await gateway.emit(event, { space });
      acceptedAt.set(result.eventId, ++now);
      return result;
    },
    retry: { initialDelay: 5, maxDelay: 20 },
    ...options,
  });
  await gateway.createConnection({
    connectionId: 'orders',
    type: 'kafka',
    source: { brokers: '127.0.0.1:9', topic: 'orders' },
    eventType: 'order.placed',
    deadLetter: { functionId: 'refused' },
    ...connection,
  } as never);
  await until(() => runner.health()[0]?.state === 'running', 'the run to start');
  return { gateway, store, queue, runner, delivered, notices, refusedEvents, acceptedAt };
}

test('N messages in, N events delivered, each acknowledged once and only after its event was accepted', async () => {
  const { queue, runner, delivered, acceptedAt } = await setUp();
  const ackedBeforeAccepted: string[] = [];
  const N = 200;
  const original = queue.acked.push.bind(queue.acked);
  queue.acked.push = (...ids: string[]) => {
    for (const id of ids) if (!acceptedAt.has(id)) ackedBeforeAccepted.push(id);
    return original(...ids);
  };
  queue.push(
    ...Array.from({ length: N }, (_, i) => ({ id: `m-${i}`, body: JSON.stringify({ n: i }) })),
  );
  await until(() => delivered.length === N && queue.acked.length === N, `${N} deliveries`);
  expect(ackedBeforeAccepted).toEqual([]);
  expect(new Set(queue.acked).size).toBe(N);
  expect(delivered.map((e) => (e.data as { n: number }).n).sort((a, b) => a - b)).toEqual(
    Array.from({ length: N }, (_, i) => i),
  );
  expect(delivered[0]).toMatchObject({
    specversion: '1.0',
    type: 'order.placed',
    source: '/spaces/default/connections/orders',
    time: '2026-01-02T03:04:05.000Z',
    datacontenttype: 'application/json',
  });
  expect(delivered.find((e) => e.id === 'm-7')?.data).toEqual({ n: 7 });
  expect(runner.health()[0]).toMatchObject({ accepted: N, refused: 0, inFlight: 0 });
});

test('text and bytes are wrapped as a string and as data_base64', async () => {
  const { queue, delivered } = await setUp();
  queue.push(
    { id: 'text', body: 'hello, not JSON' },
    { id: 'bytes', body: Buffer.from([0xff, 0xfe, 0x00, 0x01]) },
  );
  await until(() => delivered.length === 2, 'two deliveries');
  const byId = Object.fromEntries(delivered.map((e) => [e.id, e]));
  expect(byId.text).toMatchObject({ datacontenttype: 'text/plain', data: 'hello, not JSON' });
  expect(byId.bytes).toMatchObject({
    datacontenttype: 'application/octet-stream',
    data_base64: Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64'),
  });
});

test("a custom source's bytes that are a Uint8Array, not a Buffer (the AWS SDK's), are wrapped as their own base64", async () => {
  const { queue, delivered } = await setUp();
  // A made event's data_base64 is taken on trust: Uint8Array#toString would write "255,254,0,1".
  queue.push({ id: 'bytes', body: new Uint8Array([0xff, 0xfe, 0x00, 0x01]) as Buffer });
  await until(() => delivered.length === 1, 'one delivery');
  expect(delivered[0]).toMatchObject({
    datacontenttype: 'application/octet-stream',
    data_base64: Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64'),
  });
});

test("a custom source's body that is neither text nor bytes is refused with a reason, never wrapped or thrown", async () => {
  const { queue, delivered, notices, runner } = await setUp();
  const bodies = [{ not: 'bytes' }, 42, undefined];
  queue.push(...bodies.map((body, i) => ({ id: `odd-${i}`, body: body as unknown as Buffer })));
  queue.push({ id: 'good', body: '{"n":1}' });
  await until(
    () => notices.length === 3 && delivered.length === 1 && queue.acked.length === 4,
    'three refusals, one delivery, four acks',
  );
  expect(delivered.map((e) => e.id)).toEqual(['good']);
  expect(notices.map((n) => [n.messageId, n.code, n.size, n.body])).toEqual([
    ['odd-0', 'VALIDATION_FAILED', 0, ''],
    ['odd-1', 'VALIDATION_FAILED', 0, ''],
    ['odd-2', 'VALIDATION_FAILED', 0, ''],
  ]);
  expect(notices[0].reason).toMatch(/neither text nor bytes/);
  expect(queue.acked.sort()).toEqual(['good', 'odd-0', 'odd-1', 'odd-2']);
  expect(runner.health()[0]).toMatchObject({ refused: 3, accepted: 1, inFlight: 0 });
});

test("a custom source's release that returns no promise, or throws, never crashes the host", async () => {
  const rejections = await unhandledDuring(async () => {
    let context: SourceContext | undefined;
    const released: string[] = [];
    const { runner } = await setUp(
      {},
      {
        sources: {
          kafka: (given) => {
            context = given;
            const nothing = () => undefined;
            return {
              start: async () => undefined,
              pause: nothing,
              resume: nothing,
              close: async () => undefined,
            };
          },
        },
        // Not accepted (the gateway closing): each message is given back to its source.
        entry: async () => {
          throw new GatewayClosedError('The gateway is closed.');
        },
      },
    );
    const message = (id: string, release: () => unknown): SourceMessage => ({
      id,
      body: '{}',
      ack: async () => undefined,
      release: release as () => Promise<void>,
    });
    context!.deliver(message('sync', () => void released.push('sync')));
    context!.deliver(
      message('throws', () => {
        released.push('throws');
        throw new Error('release failed');
      }),
    );
    await until(
      () => released.length === 2 && runner.health()[0]?.inFlight === 0,
      'both given back',
    );
    await runner.close();
    // Handed over after the run closed: given back at once, deliver() never throws.
    expect(() => context!.deliver(message('late', () => void released.push('late')))).not.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(released).toEqual(['sync', 'throws', 'late']);
  });
  expect(rejections).toEqual([]);
});

test("a custom source's pause() and resume() that throw are reported, never thrown into deliver() or left unhandled", async () => {
  const rejections = await unhandledDuring(async () => {
    let context: SourceContext | undefined;
    const calls: string[] = [];
    const { runner, delivered } = await setUp(
      { maxInFlight: 1 },
      {
        sources: {
          kafka: (given) => {
            context = given;
            return {
              start: async () => undefined,
              pause: () => {
                calls.push('pause');
                throw new Error('pause failed');
              },
              resume: () => {
                calls.push('resume');
                throw new Error('resume failed');
              },
              close: async () => undefined,
            };
          },
        },
      },
    );
    const message = (id: string): SourceMessage => ({ id, body: '{}', ack: async () => undefined });
    expect(() => context!.deliver(message('one'))).not.toThrow();
    await until(() => delivered.length === 1 && runner.health()[0]?.inFlight === 0, 'one delivery');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toEqual(['pause', 'resume']);
    expect(runner.health()[0].lastError).toMatch(/resume failed/);
  });
  expect(rejections).toEqual([]);
});

test("a custom source's lag() that throws or answers nonsense leaves the lag unknown, never failing health()", async () => {
  const answers: (() => unknown)[] = [
    () => {
      throw new Error('lag failed');
    },
    () => ({ lagMessages: NaN, lagMs: -5, inFlight: 99, state: 'running' }),
    () => 'behind',
    () => ({ lagMessages: 7, lagMs: 250 }),
  ];
  let answer = answers[0];
  const nothing = () => undefined;
  const { runner } = await setUp(
    {},
    {
      sources: {
        kafka: () => ({
          start: async () => undefined,
          pause: nothing,
          resume: nothing,
          close: async () => undefined,
          lag: () => answer() as never,
        }),
      },
    },
  );
  const seen = answers.map((given) => {
    answer = given;
    const [health] = runner.health();
    return { lagMessages: health.lagMessages, lagMs: health.lagMs, inFlight: health.inFlight };
  });
  expect(seen).toEqual([
    { lagMessages: undefined, lagMs: undefined, inFlight: 0 },
    { lagMessages: undefined, lagMs: undefined, inFlight: 0 },
    { lagMessages: undefined, lagMs: undefined, inFlight: 0 },
    { lagMessages: 7, lagMs: 250, inFlight: 0 },
  ]);
});

test("a wrapped message's data reaches functions frozen: a handler changing it changes nothing another sees", async () => {
  const { gateway, queue, delivered } = await setUp();
  const refusedChanges: string[] = [];
  await gateway.registerFunction({
    functionId: 'mutator',
    handler: (event) => {
      const data = (event as CloudEvent).data as { n: number; nested: { list: number[] } };
      for (const change of [() => (data.n = 99), () => data.nested.list.push(99)]) {
        try {
          change();
        } catch (error) {
          refusedChanges.push((error as Error).constructor.name);
        }
      }
    },
  });
  await gateway.subscribe({ eventType: 'order.placed', functionId: 'mutator' });
  queue.push({ id: 'm-1', body: '{"n":1,"nested":{"list":[1]}}' });
  await until(() => delivered.length === 1 && refusedChanges.length === 2, 'both functions');
  expect(refusedChanges).toEqual(['TypeError', 'TypeError']);
  const data = delivered[0].data as { nested: { list: number[] } };
  expect(data).toEqual({ n: 1, nested: { list: [1] } });
  expect([data, data.nested, data.nested.list].every((part) => Object.isFrozen(part))).toBe(true);
});

test("a wrapped message's JSON is still bounded (Infinity, depth) and its time still RFC 3339: refused with a reason", async () => {
  const { queue, delivered, notices, runner } = await setUp();
  const deep = '['.repeat(80) + ']'.repeat(80);
  queue.push(
    { id: 'infinite', body: '{"n":1e999}' },
    { id: 'deep', body: `{"n":${deep}}` },
    // A Kafka producer sets its timestamps: this one is the year 275760.
    { id: 'far-future', body: '{"n":1}', time: new Date(8.64e15) },
    { id: 'good', body: '{"n":2}', time: new Date(-1) },
  );
  await until(() => queue.acked.length === 4, 'every message acknowledged');
  expect(delivered.map((e) => [e.id, e.time])).toEqual([['good', '1969-12-31T23:59:59.999Z']]);
  const reasons = Object.fromEntries(notices.map((n) => [n.messageId, n.reason]));
  expect(reasons).toEqual({
    infinite: expect.stringMatching(/"data\.n" is Infinity, which JSON cannot carry/),
    deep: expect.stringMatching(/"data\.n(\[0\])+" nests deeper than 64 levels/),
    'far-future': expect.stringMatching(/"time" must be an RFC 3339 timestamp, got "\+275760-/),
  });
  expect(runner.health()[0]).toMatchObject({ refused: 3, accepted: 1 });
});

test('a structured CloudEvent message is checked whole: its own time and data are not taken on trust', async () => {
  const { queue, delivered, notices } = await setUp({ eventType: undefined, cloudEvents: true });
  const event = (id: string, more: object) =>
    JSON.stringify({ specversion: '1.0', id, source: 's', type: 'order.placed', ...more });
  queue.push(
    { id: 'bad-time', body: event('bad-time', { time: '2026-13-45T99:00:00Z' }) },
    { id: 'far-time', body: event('far-time', { time: '+275760-09-13T00:00:00.000Z' }) },
    // JSON.stringify would write Infinity as null: the text carries 1e999 itself.
    { id: 'infinite', body: event('infinite', { data: { n: 'X' } }).replace('"X"', '1e999') },
    { id: 'good', body: event('good', { time: '2026-01-02T03:04:05Z', data: { n: 1 } }) },
  );
  await until(() => queue.acked.length === 4, 'every message acknowledged');
  expect(delivered.map((e) => e.id)).toEqual(['good']);
  expect(Object.isFrozen(delivered[0].data)).toBe(true);
  const reasons = Object.fromEntries(notices.map((n) => [n.messageId, n.reason]));
  expect(reasons).toEqual({
    'bad-time': expect.stringMatching(/"time" must be an RFC 3339 timestamp/),
    'far-time': expect.stringMatching(/"time" must be an RFC 3339 timestamp/),
    infinite: expect.stringMatching(/"data\.n" is Infinity/),
  });
});

test('poison messages are refused with a reason, dead-lettered and acknowledged, and never stall the good ones', async () => {
  const { queue, runner, delivered, notices, refusedEvents, gateway } = await setUp({
    eventType: undefined,
    cloudEvents: true,
  });
  gateway.use({
    name: 'no-secrets',
    onEvent: (event) => (event.secret ? { refuse: 'no secrets here', status: 400 } : undefined),
  });
  const good = (id: string) => ({
    id,
    body: JSON.stringify({ specversion: '1.0', id, source: 's', type: 'order.placed', data: 1 }),
  });
  const poison = {
    'not-json': '{"specversion": "1.0", ',
    huge: JSON.stringify({ ...JSON.parse(good('huge').body), data: 'x'.repeat(1024 * 1024) }),
    reserved: JSON.stringify({
      ...JSON.parse(good('r').body),
      type: 'eventgateway.event.received',
    }),
    forged: JSON.stringify({ ...JSON.parse(good('f').body), deliveryid: 'd-1' }),
    'no-id': JSON.stringify({ specversion: '1.0', source: 's', type: 'order.placed' }),
    looping: JSON.stringify({ ...JSON.parse(good('l').body), hopcount: 99 }),
    plugin: JSON.stringify({ ...JSON.parse(good('p').body), secret: 'x' }),
    array: '[1,2,3]',
  };
  queue.push(good('g-1'));
  for (const [id, body] of Object.entries(poison)) queue.push({ id, body }, good(`after-${id}`));
  const total = 1 + 2 * Object.keys(poison).length;
  await until(() => queue.acked.length === total, 'every message acknowledged');
  expect(delivered.map((e) => e.id).sort()).toEqual(
    ['g-1', ...Object.keys(poison).map((id) => `after-${id}`)].sort(),
  );
  const reasons = Object.fromEntries(notices.map((n) => [n.messageId, `${n.code}: ${n.reason}`]));
  expect(reasons).toEqual({
    'not-json': expect.stringMatching(/^VALIDATION_FAILED: .*not a structured CloudEvent/),
    huge: expect.stringMatching(/^VALIDATION_FAILED: .*over the limit of 1048576/),
    reserved: expect.stringMatching(/^VALIDATION_FAILED: .*reserved/),
    forged: expect.stringMatching(
      /^VALIDATION_FAILED: .*"deliveryid", an extension only the gateway/,
    ),
    'no-id': expect.stringMatching(/^VALIDATION_FAILED: .*"id" is required/),
    looping: expect.stringMatching(/^HOP_LIMIT: /),
    plugin: expect.stringMatching(/^EVENT_REFUSED: no secrets here/),
    array: expect.stringMatching(/^VALIDATION_FAILED: /),
  });
  const huge = notices.find((n) => n.messageId === 'huge')!;
  expect(huge).toMatchObject({ truncated: true, encoding: 'utf8', connectionId: 'orders' });
  expect(huge.body.length).toBe(64 * 1024);
  await until(() => refusedEvents.length === notices.length, 'the dead-letter function');
  expect(refusedEvents[0]).toMatchObject({
    type: 'eventgateway.connection.refused',
    data: { connectionId: 'orders', space: 'default' },
  });
  expect(runner.health()[0]).toMatchObject({ refused: 8, accepted: 9, inFlight: 0 });
});

test('backpressure pauses the source at maxInFlight instead of buffering, and resumes; nothing is lost', async () => {
  let open!: () => void;
  let gate = new Promise<void>((resolve) => (open = resolve));
  const { queue, runner, delivered, gateway } = await setUp({ maxInFlight: 5 });
  let waiting = 0;
  gateway.use({
    name: 'slow',
    timeout: 60_000,
    onEvent: async () => {
      waiting++;
      await gate;
    },
  });
  queue.push(...Array.from({ length: 50 }, (_, i) => ({ id: `m-${i}`, body: `{"n":${i}}` })));
  await until(() => waiting === 5, 'five events in flight');
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(waiting).toBe(5);
  expect(runner.health()[0]).toMatchObject({ state: 'paused', inFlight: 5 });
  expect(queue.maxOutstanding).toBe(5);
  open();
  gate = Promise.resolve();
  await until(() => delivered.length === 50 && queue.acked.length === 50, 'all 50');
  expect(queue.maxOutstanding).toBe(5);
  expect(queue.pauses).toBeGreaterThan(1);
  expect(runner.health()[0].state).toBe('running');
});

test('a paused source resumes once half its window is settled, not at the first ack below it (a pause per message)', async () => {
  const { queue, runner, gateway } = await setUp({ maxInFlight: 4 });
  const holds: (() => void)[] = [];
  gateway.use({
    name: 'hold',
    timeout: 60_000,
    onEvent: () => new Promise<void>((resolve) => void holds.push(resolve)),
  });
  queue.push(...Array.from({ length: 12 }, (_, i) => ({ id: `m-${i}`, body: `{"n":${i}}` })));
  await until(() => holds.length === 4, 'four events in flight');
  const settle = async (count: number) => {
    const acked = queue.acked.length;
    for (const release of holds.splice(0, count)) release();
    await until(() => queue.acked.length === acked + count, `${count} more acks`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  };
  // 3 and then 2 in flight: still paused, nothing more delivered.
  await settle(1);
  await settle(1);
  expect(runner.health()[0]).toMatchObject({ state: 'paused', inFlight: 2 });
  expect(holds).toHaveLength(2);
  expect(queue.pauses).toBe(1);
  // Down to 1 (at most half of the window of 4 minus one): resumed, a burst of 3 delivered.
  await settle(1);
  await until(() => holds.length === 4, 'the window full again');
  expect(queue.pauses).toBe(2);
  while (queue.acked.length < 12) await settle(Math.min(holds.length, 12 - queue.acked.length));
  expect(queue.maxOutstanding).toBe(4);
});

test('an event the gateway cannot accept yet is retried, never dead-lettered, and acknowledged once accepted', async () => {
  const { queue, runner, delivered, notices, gateway } = await setUp();
  let failures = 3;
  gateway.use({
    name: 'flaky',
    onEvent: () => {
      if (failures-- > 0) throw new BackpressureError('not now');
    },
    failOpen: false,
  });
  queue.push({ id: 'm-1', body: '{}' });
  await until(() => queue.acked.length === 1, 'the ack');
  expect(delivered).toHaveLength(1);
  expect(notices).toEqual([]);
  expect(runner.health()[0].retries).toBe(3);
});

test('closing gives back what was not accepted (released, not acknowledged)', async () => {
  const { queue, runner, gateway } = await setUp({}, { drainTimeout: 200 });
  gateway.use({ name: 'never', timeout: 2000, onEvent: () => new Promise(() => undefined) });
  queue.push({ id: 'stuck', body: '{}' });
  await until(() => runner.health()[0].inFlight === 1, 'one in flight');
  await runner.close();
  expect(queue.acked).toEqual([]);
  expect(queue.released).toEqual(['stuck']);
});

test('closing waits for what is in flight to be accepted and acknowledges it, without waiting out the drain', async () => {
  const { queue, runner, gateway } = await setUp({}, { drainTimeout: 10_000 });
  const holds: (() => void)[] = [];
  gateway.use({
    name: 'hold',
    timeout: 60_000,
    onEvent: () => new Promise<void>((resolve) => void holds.push(resolve)),
  });
  queue.push({ id: 'm-1', body: '{}' }, { id: 'm-2', body: '{}' });
  await until(() => holds.length === 2, 'two in flight');
  const started = Date.now();
  const closed = runner.close();
  setTimeout(() => holds.forEach((release) => release()), 100);
  await closed;
  expect(Date.now() - started).toBeLessThan(5000);
  expect(queue.acked.sort()).toEqual(['m-1', 'm-2']);
  expect(queue.released).toEqual([]);
});

test('an updated connection restarts with its new record; a deleted one stops', async () => {
  const { queue, runner, gateway, delivered } = await setUp();
  await gateway.createEventType({ name: 'order.changed' });
  await gateway.subscribe({ eventType: 'order.changed', functionId: 'sink' });
  const record = gateway.getConnection({ connectionId: 'orders', secrets: true });
  await gateway.updateConnection({ ...record, eventType: 'order.changed' });
  await until(() => queue.closed === 1 && runner.health()[0]?.state === 'running', 'a restart');
  queue.push({ id: 'after-update', body: '{}' });
  await until(() => delivered.length === 1, 'a delivery');
  expect(delivered[0].type).toBe('order.changed');
  await gateway.deleteConnection({ connectionId: 'orders' });
  await until(() => queue.closed === 2 && runner.health().length === 0, 'the stop');
});

test("a tenant's keyless AWS connection found in the store never starts with the host's credentials", async () => {
  const store = new MemoryStore();
  const { gateway } = await newGateway(store, { connections: false });
  // As an older version (or a hand) may have stored it: no keys, written by a tenant.
  const record = {
    space: 'default',
    connectionId: 'old',
    type: 'awssqs',
    source: { queueUrl: 'http://127.0.0.1:9/1/q', region: 'us-east-1' },
    eventType: 'order.placed',
    writer: 'tenant',
  };
  await store.put('/serverless-event-gateway/connections/default/old', JSON.stringify(record));
  const runner = newRunner(gateway, store, { retry: { initialDelay: 5, maxDelay: 20 } });
  await until(() => runner.health()[0]?.lastError !== undefined, 'the refusal');
  expect(runner.health()[0]).toMatchObject({
    state: 'starting',
    lastError: expect.stringMatching(/host's credentials are never used/),
  });
});

test("a custom source's close() that throws while its connection is updated is reported, the new record still runs, nothing is left unhandled", async () => {
  const reported: Error[] = [];
  const rejections = await unhandledDuring(async () => {
    const closes: string[] = [];
    const { runner, gateway } = await setUp(
      {},
      {
        reportError: (error) => void reported.push(error),
        sources: {
          kafka: (context) => {
            const eventType = String(context.record.eventType);
            const nothing = () => undefined;
            return {
              start: async () => undefined,
              pause: nothing,
              resume: nothing,
              // As a source written in JavaScript may: a throw, not a rejected promise.
              close: (() => {
                closes.push(eventType);
                throw new Error(`close of ${eventType} failed`);
              }) as () => Promise<void>,
            };
          },
        },
      },
    );
    await gateway.createEventType({ name: 'order.changed' });
    const record = gateway.getConnection({ connectionId: 'orders', secrets: true });
    await gateway.updateConnection({ ...record, eventType: 'order.changed' });
    await until(
      () => runner.health()[0]?.state === 'running' && reported.length > 0,
      'the restart and the report',
    );
    expect(closes).toEqual(['order.placed']);
    expect(runner.health()).toEqual([
      expect.objectContaining({ connectionId: 'orders', state: 'running' }),
    ]);
    // The new run is the one with the new record (the old one never comes back).
    await runner.close();
    expect(closes).toEqual(['order.placed', 'order.changed']);
  });
  expect(rejections).toEqual([]);
  expect(reported.map((error) => error.message)).toEqual([
    expect.stringMatching(/Connection orders \(space default\).*close of order\.placed failed/),
    expect.stringMatching(/Connection orders \(space default\).*close of order\.changed failed/),
  ]);
});

test('a failure while starting a connection (its outbound policy cannot be built) is reported, never an unhandled rejection', async () => {
  const reported: Error[] = [];
  const rejections = await unhandledDuring(async () => {
    const { gateway } = await setUp();
    const runner = newRunner(gateway, new MemoryStore(), {
      reportError: (error) => void reported.push(error),
      outbound: () => {
        throw new Error('policy chain broken');
      },
    });
    await until(() => reported.length > 0, 'the report');
    expect(runner.health()).toEqual([]);
  });
  expect(rejections).toEqual([]);
  expect(reported.map((error) => error.message)).toEqual([
    expect.stringMatching(/Connection orders \(space default\): policy chain broken/),
  ]);
});

test('a custom source whose start() fails and whose close() throws at once is still retried, nothing left unhandled', async () => {
  let starts = 0;
  const rejections = await unhandledDuring(async () => {
    const nothing = () => undefined;
    // setUp waits for the run to be running: the fourth start, after three failed ones retried
    // 5-20 ms apart (a close() throwing at once used to end the retries at the first).
    const { runner } = await setUp(
      {},
      {
        sources: {
          kafka: () => ({
            start: async () => {
              if (++starts <= 3) throw new Error('start failed');
            },
            pause: nothing,
            resume: nothing,
            close: () => {
              throw new Error('close failed at once');
            },
          }),
        },
      },
    );
    expect(starts).toBe(4);
    expect(runner.health()[0].lastError).toMatch(/start failed/);
  });
  expect(rejections).toEqual([]);
});
