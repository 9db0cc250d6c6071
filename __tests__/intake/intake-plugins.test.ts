import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  createEventsHandler,
  createGateway,
  EventRefusedError,
  IntakeFailedError,
  MemoryStore,
  registerPrometheusMetrics,
  ValidationError,
  type ArchivedEvent,
  type ArchiveSource,
  type CloudEvent,
  type Gateway,
  type IntakePlugin,
  type IntakeVia,
} from '../../lib';

/** What a way in answered: accepted, or refused with a status and a message. */
type Outcome = { ok: true } | { ok: false; status: number; message: string; error?: unknown };

interface Harness {
  gateway: Gateway;
  /** What the subscribed function received. */
  received: CloudEvent[];
  /** What a later plugin's outcome hooks heard: accepted events and deliveries. */
  accepted: CloudEvent[];
  delivered: string[];
  url: string;
  close(): Promise<void>;
}

async function start(guard: IntakePlugin): Promise<Harness> {
  const received: CloudEvent[] = [];
  const accepted: CloudEvent[] = [];
  const delivered: string[] = [];
  const recorder: IntakePlugin = {
    name: 'recorder',
    accepted: (event) => void accepted.push(event),
    delivered: ({ event }) => void delivered.push(event.id),
  };
  const gateway = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    retry: { maxAttempts: 1 },
    plugins: [guard, recorder],
  });
  await gateway.registerFunction({
    functionId: 'listener',
    handler: (event) => void received.push(event as CloudEvent),
  });
  await gateway.createEventType({ name: 'user.created' });
  await gateway.createEventType({ name: 'http.request' });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'listener' });
  await gateway.subscribe({
    type: 'async',
    eventType: 'http.request',
    functionId: 'listener',
    method: 'POST',
    path: '/hook',
  });
  const server = createServer(createEventsHandler(gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    gateway,
    received,
    accepted,
    delivered,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
    },
  };
}

const event = (id: string): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/test',
  type: 'user.created',
  data: { id },
});

async function post(url: string, headers: Record<string, string>, body: string): Promise<Outcome> {
  const res = await request(url, { method: 'POST', headers, body });
  const text = await res.body.text();
  if (res.statusCode === 202 || res.statusCode === 200) return { ok: true };
  return { ok: false, status: res.statusCode, message: JSON.parse(text).errors[0].message };
}

/** A source that yields the events given, as an archive would. */
function memorySource(events: CloudEvent[]): ArchiveSource {
  return {
    name: 'memory',
    async *read(): AsyncIterable<ArchivedEvent> {
      for (const e of events) {
        yield { space: 'default', method: 'POST', path: '/', acceptedAt: Date.now(), event: e };
      }
    },
  };
}

/** Each way in: sends one event, says what became of it. */
const WAYS: [
  IntakeVia | 'structured' | 'binary' | 'http.request',
  (h: Harness, id: string) => Promise<Outcome>,
][] = [
  [
    'emit',
    async (h, id) => {
      try {
        await h.gateway.emit(event(id));
        return { ok: true };
      } catch (error) {
        const e = error as EventRefusedError;
        return { ok: false, status: e.status, message: e.message, error };
      }
    },
  ],
  [
    'structured',
    (h, id) =>
      post(h.url, { 'content-type': 'application/cloudevents+json' }, JSON.stringify(event(id))),
  ],
  [
    'binary',
    (h, id) =>
      post(
        h.url,
        {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': id,
          'ce-source': '/test',
          'ce-type': 'user.created',
        },
        JSON.stringify({ id }),
      ),
  ],
  [
    'batch',
    (h, id) =>
      post(
        h.url,
        { 'content-type': 'application/cloudevents-batch+json' },
        JSON.stringify([event(id), event(`${id}-second`)]),
      ),
  ],
  [
    'http.request',
    (h, id) =>
      post(`${h.url}/hook`, { 'content-type': 'application/json' }, JSON.stringify({ id })),
  ],
  [
    'replay',
    async (h, id) => {
      const totals = await h.gateway.replay({ source: memorySource([event(id)]), from: 0 });
      if (totals.refused === 0) return { ok: true };
      return { ok: false, status: 0, message: totals.lastRefusal ?? '' };
    },
  ],
];

/** Until every accepted delivery has ended. */
async function settled(gateway: Gateway): Promise<void> {
  while (gateway.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 2));
}

describe.each(WAYS)('intake plugins on the way in: %s', (way, send) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('a refusal: nothing delivered, nothing archived, the status and reason the plugin gave', async () => {
    h = await start({
      name: 'guard',
      onEvent: () => ({ refuse: 'no test events here', status: 400 }),
    });
    const outcome = await send(h, 'r-1');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.message).toContain('no test events here');
      if (way !== 'replay') expect(outcome.status).toBe(400);
      if (way === 'emit') expect(outcome.error).toBeInstanceOf(EventRefusedError);
    }
    await settled(h.gateway);
    expect(h.received).toEqual([]);
    expect(h.accepted).toEqual([]);
    const [guard] = h.gateway.metrics().plugins;
    expect(guard).toMatchObject({ name: 'guard', position: 0, refused: 1 });
    expect(h.gateway.metrics().eventsRefused).toBe(1);
  });

  test('an enrichment reaches the function and the later plugins', async () => {
    h = await start({
      name: 'guard',
      onEvent: async (e, context) => {
        await new Promise((r) => setTimeout(r, 1));
        return { extensions: { tenant: 'acme', via: context.via, seen: e.type.length } };
      },
    });
    expect(await send(h, 'e-1')).toEqual({ ok: true });
    await settled(h.gateway);
    expect(h.received.length).toBeGreaterThan(0);
    for (const got of [...h.received, ...h.accepted]) {
      expect(got).toMatchObject({
        tenant: 'acme',
        via: way === 'structured' || way === 'binary' || way === 'http.request' ? 'http' : way,
      });
    }
    expect(h.delivered.length).toBe(h.received.length);
    expect(h.gateway.metrics().plugins[0]).toMatchObject({
      enriched: h.accepted.length,
      refused: 0,
    });
  });

  test('a plugin that throws refuses the event (fail closed, 503)', async () => {
    h = await start({
      name: 'guard',
      onEvent: () => {
        throw new Error('policy service down');
      },
    });
    const reported: string[] = [];
    h.gateway.on('gateway.error', (error) => reported.push(error.message));
    const outcome = await send(h, 't-1');
    expect(outcome.ok).toBe(false);
    expect(reported.join()).toContain('policy service down'); // the operator hears the details
    if (!outcome.ok) {
      expect(outcome.message).toMatch(
        /Intake plugin "guard" failed on the event; the event was refused/,
      );
      expect(outcome.message).not.toContain('policy service down'); // no detail reaches a client
      if (way !== 'replay') expect(outcome.status).toBe(503);
      if (way === 'emit') {
        expect(outcome.error).toBeInstanceOf(IntakeFailedError);
        expect(((outcome.error as Error).cause as Error).message).toBe('policy service down');
      }
    }
    await settled(h.gateway);
    expect(h.received).toEqual([]);
    expect(h.accepted).toEqual([]);
    expect(h.gateway.metrics().plugins[0]).toMatchObject({ failed: 1, timedOut: 0 });
  });

  test('a plugin past its time budget refuses the event and sees its signal aborted', async () => {
    let aborted = false;
    h = await start({
      name: 'guard',
      timeout: 50,
      onEvent: (_e, { signal }) =>
        new Promise<undefined>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            setTimeout(() => resolve(undefined), 20); // answers late: too late
          });
        }),
    });
    const outcome = await send(h, 'h-1');
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.message).toContain('ran past its 50 ms time budget');
    await new Promise((r) => setTimeout(r, 40));
    await settled(h.gateway);
    expect(aborted).toBe(true);
    expect(h.received).toEqual([]);
    expect(h.accepted).toEqual([]);
    expect(h.gateway.metrics().plugins[0]).toMatchObject({ failed: 1, timedOut: 1 });
  });

  test('a plugin that first reads its signal after its budget ran out finds it aborted', async () => {
    let read!: (seen: { aborted: boolean; reason: unknown }) => void;
    const seen = new Promise<{ aborted: boolean; reason: unknown }>((r) => (read = r));
    // The plugin answers only once the gate has given up on it (no race between two timers).
    let givenUp!: () => void;
    const decided = new Promise<void>((r) => (givenUp = r));
    h = await start({
      name: 'guard',
      timeout: 30,
      onEvent: async (_e, context) => {
        await decided; // past the budget, the signal never read
        read({ aborted: context.signal.aborted, reason: context.signal.reason });
        return undefined;
      },
    });
    const outcome = await send(h, 'l-1');
    givenUp();
    expect(outcome.ok).toBe(false);
    const { aborted, reason } = await seen;
    expect(aborted).toBe(true);
    expect(String(reason)).toContain('no answer within 30 ms'); // as a signal read in time
    await settled(h.gateway);
    expect(h.received).toEqual([]);
  });

  test('a fail-open plugin that throws lets the event through unchanged, and says so', async () => {
    const warnings: string[] = [];
    h = await start({
      name: 'guard',
      failOpen: true,
      onEvent: () => {
        throw new Error('enricher down');
      },
    });
    h.gateway.on('gateway.error', (error) => warnings.push(error.message));
    expect(await send(h, 'o-1')).toEqual({ ok: true });
    await settled(h.gateway);
    expect(h.received.length).toBeGreaterThan(0);
    expect(h.received[0]).not.toHaveProperty('tenant');
    expect(h.gateway.metrics().plugins[0].failedOpen).toBeGreaterThan(0);
    expect(warnings[0]).toMatch(/Intake plugin "guard" failed on an event and let it through/);
  });
});

describe('intake plugins', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('a batch is refused whole when one of its events is refused: none is delivered', async () => {
    h = await start({
      name: 'guard',
      onEvent: (e) => (e.id === 'b-2' ? { refuse: 'b-2 is not welcome' } : undefined),
    });
    const outcome = await post(
      h.url,
      { 'content-type': 'application/cloudevents-batch+json' },
      JSON.stringify([event('b-1'), event('b-2'), event('b-3')]),
    );
    expect(outcome).toEqual({ ok: false, status: 403, message: 'b-2 is not welcome' });
    await settled(h.gateway);
    expect(h.received).toEqual([]);
  });

  test('plugins run in order, each seeing the event as the one before let it through', async () => {
    const order: string[] = [];
    h = await start({
      name: 'first',
      onEvent: () => {
        order.push('first');
        return { extensions: { step: 1 } };
      },
    });
    h.gateway.use({
      name: 'second',
      onEvent: (e) => {
        order.push(`second saw step ${String(e.step)}`);
        return { extensions: { step: 2 } };
      },
    });
    await h.gateway.emit(event('o-1'));
    await settled(h.gateway);
    expect(order).toEqual(['first', 'second saw step 1']);
    expect(h.received[0].step).toBe(2);
    expect(h.gateway.metrics().plugins.map((p) => [p.name, p.position])).toEqual([
      ['first', 0],
      ['recorder', 1],
      ['second', 2],
    ]);
  });

  test('a plugin cannot forge the gateway extensions or change context attributes', async () => {
    for (const extensions of [
      { eventgatewayreplay: 'x' },
      { id: 'other' },
      { deliveryid: 'd' },
      { 'Bad-Name': 1 },
      { nested: {} },
    ]) {
      const gateway = createGateway(new MemoryStore(), {
        plugins: [{ name: 'forger', onEvent: () => ({ extensions }) as never }],
      });
      await expect(gateway.emit(event('f-1'))).rejects.toBeInstanceOf(IntakeFailedError);
      await gateway.close();
    }
  });

  test('nonsense answers fail the plugin; malformed plugins are refused at use()', async () => {
    const gateway = createGateway(new MemoryStore(), {
      plugins: [{ name: 'odd', onEvent: () => 42 as never }],
    });
    await expect(gateway.emit(event('n-1'))).rejects.toThrow(/Intake plugin "odd" failed/);
    // Hostile answers: a `then` getter that throws, a `then` that throws, an answer whose fields throw.
    const hostile = [
      Object.defineProperty({}, 'then', {
        get: () => {
          throw new Error('getter');
        },
      }),
      {
        then: () => {
          throw new Error('then');
        },
      },
      Object.defineProperty({}, 'extensions', {
        get: () => {
          throw new Error('field');
        },
      }),
    ];
    for (const [i, answer] of hostile.entries()) {
      const g = createGateway(new MemoryStore(), {
        plugins: [{ name: `hostile-${i}`, timeout: 100, onEvent: () => answer as never }],
      });
      await expect(g.emit(event(`h-${i}`))).rejects.toBeInstanceOf(IntakeFailedError);
      await g.close();
    }
    expect(() => gateway.use({ name: 'odd' })).toThrow(ValidationError);
    expect(() => gateway.use({ name: '' })).toThrow(ValidationError);
    expect(() => gateway.use({ name: 'x', timeout: -1 })).toThrow(ValidationError);
    expect(() => gateway.use({ name: 'y', onEvent: 'no' as never })).toThrow(ValidationError);
    expect(() => gateway.use(null as never)).toThrow(ValidationError);
    expect(() => createGateway(new MemoryStore(), { plugins: {} as never })).toThrow(
      ValidationError,
    );
    await gateway.close();
  });

  test('Prometheus shows each plugin by name and position: outcomes, time, its own figures', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    h = await start({
      name: 'guard',
      onEvent: (e) => (e.id === 'p-2' ? { refuse: 'no' } : undefined),
      stats: () => ({ checked: 7 }),
    });
    const unregister = registerPrometheusMetrics(h.gateway, { registry });
    await h.gateway.emit(event('p-1'));
    await expect(h.gateway.emit(event('p-2'))).rejects.toBeInstanceOf(EventRefusedError);
    const text = await registry.metrics();
    expect(text).toContain(
      'eventgateway_plugin_events_total{plugin="guard",position="0",outcome="passed"} 1',
    );
    expect(text).toContain(
      'eventgateway_plugin_events_total{plugin="guard",position="0",outcome="refused"} 1',
    );
    expect(text).toMatch(/eventgateway_plugin_seconds_total\{plugin="guard",position="0"\} \d/);
    expect(text).toContain(
      'eventgateway_plugin_stat{plugin="guard",position="0",stat="checked"} 7',
    );
    expect(text).toContain('eventgateway_events_refused_total 1');
    unregister();
  });

  test('a refusal is an event.refused system event naming the plugin', async () => {
    h = await start({ name: 'guard', onEvent: () => ({ refuse: 'nope' }) });
    const refused: unknown[] = [];
    h.gateway.on('event.refused', (report) => refused.push(report));
    await expect(h.gateway.emit(event('s-1'))).rejects.toBeInstanceOf(EventRefusedError);
    expect(refused).toEqual([
      { space: 'default', eventId: 's-1', code: 'EVENT_REFUSED', reason: 'nope', plugin: 'guard' },
    ]);
  });

  test('a replay stops when its signal aborts, and refuses to start with one aborted', async () => {
    h = await start({ name: 'guard' });
    const many = Array.from({ length: 1000 }, (_, i) => event(`a-${i}`));
    const stop = new AbortController();
    const replaying = h.gateway.replay({
      source: memorySource(many),
      from: 0,
      rate: 500,
      signal: stop.signal,
      onProgress: ({ emitted }) => (emitted >= 5 ? stop.abort(new Error('enough')) : undefined),
      progressInterval: 1,
    });
    await expect(replaying).rejects.toThrow('enough');
    await settled(h.gateway);
    expect(h.received.length).toBeGreaterThanOrEqual(5);
    expect(h.received.length).toBeLessThan(50);
    await expect(
      h.gateway.replay({ source: memorySource(many), from: 0, signal: stop.signal }),
    ).rejects.toThrow('enough');
  });

  test('a source that yields nonsense fails the replay with ArchiveUnavailableError', async () => {
    h = await start({ name: 'guard' });
    const broken = {
      name: 'broken',
      async *read() {
        yield null as never;
      },
    };
    await expect(h.gateway.replay({ source: broken, from: 0 })).rejects.toMatchObject({
      code: 'ARCHIVE_UNAVAILABLE',
      message: expect.stringContaining('"broken" yielded something'),
    });
  });

  test('a client cannot post the replay mark or a delivery ID: the Events API removes them', async () => {
    h = await start({ name: 'guard' });
    const forged = { ...event('c-1'), eventgatewayreplay: 'fake', deliveryid: 'fake' };
    expect(
      await post(h.url, { 'content-type': 'application/cloudevents+json' }, JSON.stringify(forged)),
    ).toEqual({ ok: true });
    await settled(h.gateway);
    expect(h.received[0]).not.toHaveProperty('eventgatewayreplay');
    expect(h.received[0]).not.toHaveProperty('deliveryid');
  });

  test('outcome hooks that throw are reported, never passed on; dead letters reach the hook', async () => {
    const letters: string[] = [];
    const errors: string[] = [];
    const gateway = createGateway(new MemoryStore(), {
      retry: { maxAttempts: 1 },
      plugins: [
        {
          name: 'noisy',
          accepted: () => {
            throw new Error('accepted hook broke');
          },
          deadLettered: (letter) => void letters.push(letter.event.id),
        },
      ],
    });
    gateway.on('gateway.error', (e) => errors.push(e.message));
    await gateway.registerFunction({
      functionId: 'failing',
      handler: () => {
        throw new Error('no');
      },
    });
    await gateway.createEventType({ name: 'user.created' });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'failing' });
    await gateway.emit(event('d-1'), { wait: true });
    expect(letters).toEqual(['d-1']);
    expect(errors[0]).toMatch(/"noisy" failed in its accepted hook: .*accepted hook broke/);
    expect(gateway.metrics().plugins[0].hookErrors).toBe(1);
    await gateway.close();
  });
});
