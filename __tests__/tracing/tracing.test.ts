// Tracing through the pipeline, with the OpenTelemetry SDK registered globally in this file (a
// test file is its own global scope): the spans an event makes, their parents and links, and the
// trace context each function receives. Real HTTP functions on loopback, the real Events API.
import { context, trace } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEventsHandler,
  createGateway,
  LocalJournal,
  MemoryStore,
  type CloudEvent,
  type Gateway,
} from '../../lib';
import { waitUntil } from '../../lib/testing';
import { cloudEvent } from '../helpers/events';
import { FunctionServer, hang, json, sequence } from '../helpers/function-server';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncHooksContextManager().enable();
beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await provider.shutdown();
});

const FAST_RETRY = { initialDelay: 5, maxDelay: 20, maxAttempts: 3, maxAge: 10_000 };
/** A caller's trace, as a client would send it. */
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
/** The trace the event was produced in, as its CloudEvents extension says. */
const ORIGIN = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const gateways: Gateway[] = [];
const servers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  exporter.reset();
});

async function serve(behaviour: Parameters<typeof FunctionServer.start>[0]) {
  const server = await FunctionServer.start(behaviour);
  servers.push(server);
  return server;
}

async function gatewayWith(
  options: Parameters<typeof createGateway>[1] = {},
  store = new MemoryStore(),
) {
  const gateway = createGateway(store, { resyncInterval: 0, retry: FAST_RETRY, ...options });
  gateways.push(gateway);
  await gateway.ready();
  return gateway;
}

async function subscribeHttp(gateway: Gateway, functionId: string, url: string) {
  await gateway.registerFunction({ functionId, type: 'http', provider: { url } });
  if (!gateway.listEventTypes().some((e) => e.name === 'order.placed'))
    await gateway.createEventType({ name: 'order.placed' });
  await gateway.subscribe({ eventType: 'order.placed', functionId });
}

/** A local function `local` subscribed to `order.placed`: the events it received. */
async function subscribeLocal(gateway: Gateway): Promise<CloudEvent[]> {
  const got: CloudEvent[] = [];
  await gateway.registerFunction({
    functionId: 'local',
    handler: (e) => void got.push(e as CloudEvent),
  });
  await gateway.createEventType({ name: 'order.placed' });
  await gateway.subscribe({ eventType: 'order.placed', functionId: 'local' });
  return got;
}

const spans = (name?: string) =>
  exporter.getFinishedSpans().filter((span) => name === undefined || span.name === name);
const ids = (span: ReadableSpan) => span.spanContext();
const traceparentOf = (span: ReadableSpan) =>
  `00-${ids(span).traceId}-${ids(span).spanId}-0${ids(span).traceFlags}`;
const attempt = (functionId: string, n: number) =>
  spans(`deliver ${functionId}`).find(
    (s) => s.attributes['event_gateway.attempt'] === n,
  ) as ReadableSpan;

test("an event through the Events API, fanned out to two HTTP functions (one retried): one trace, attempts children of the acceptance span, each function gets its attempt span's traceparent", async () => {
  const steady = await serve(json(200, { ok: true }));
  const flaky = await serve(sequence(json(500, { error: 'try again' }), json(200, { ok: true })));
  const gateway = await gatewayWith();
  await subscribeHttp(gateway, 'steady', steady.url);
  await subscribeHttp(gateway, 'flaky', flaky.url);
  const api = createServer(createEventsHandler(gateway));
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  servers.push({ stop: () => new Promise<void>((resolve) => api.close(() => resolve())) });

  const event = { ...cloudEvent('order.placed', { amount: 5 }), traceparent: ORIGIN };
  const response = await fetch(`http://127.0.0.1:${(api.address() as AddressInfo).port}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/cloudevents+json',
      traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
      tracestate: 'vendor=abc',
    },
    body: JSON.stringify(event),
  });
  expect(response.status).toBe(202);
  await waitUntil(() => steady.requests.length === 1 && flaky.requests.length === 2, 10_000);
  await waitUntil(() => spans().length === 4, 5_000);

  const [accept] = spans('accept');
  // The request's trace context is the acceptance span's parent; the event's own is linked.
  expect(ids(accept).traceId).toBe(CALLER_TRACE);
  expect(accept.parentSpanContext?.spanId).toBe(CALLER_SPAN);
  expect(accept.parentSpanContext?.isRemote).toBe(true);
  expect(ids(accept).traceState?.get('vendor')).toBe('abc');
  expect(accept.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
  expect(accept.attributes).toMatchObject({
    'messaging.system': 'event-gateway',
    'cloudevents.event_id': event.id,
    'cloudevents.event_type': 'order.placed',
    'event_gateway.via': 'http',
    'event_gateway.deliveries': 2,
  });

  const first = attempt('flaky', 1);
  const second = attempt('flaky', 2);
  const steadyAttempt = attempt('steady', 1);
  // Fan-out and retries: every attempt is a child of the acceptance span, in its trace.
  for (const span of [first, second, steadyAttempt]) {
    expect(ids(span).traceId).toBe(CALLER_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(ids(accept).spanId);
  }
  expect(first.attributes).toMatchObject({
    'messaging.destination.name': 'flaky',
    'event_gateway.outcome': 'retrying',
    'http.response.status_code': 500,
    'http.request.method': 'POST',
  });
  expect(first.status.code).toBe(2); // ERROR
  expect(second.attributes).toMatchObject({
    'event_gateway.outcome': 'delivered',
    'http.response.status_code': 200,
    'http.request.resend_count': 1,
  });
  expect(steadyAttempt.attributes).toMatchObject({
    'event_gateway.outcome': 'delivered',
    'http.response.status_code': 200,
  });

  // Each request carries its own attempt's trace context, as a header and as the extension.
  const received = [
    [steady.requests[0], steadyAttempt],
    [flaky.requests[0], first],
    [flaky.requests[1], second],
  ] as const;
  for (const [request, span] of received) {
    expect(request.headers.traceparent).toBe(traceparentOf(span));
    expect(request.headers.tracestate).toBe('vendor=abc');
    const body = JSON.parse(request.body) as CloudEvent;
    expect(body.traceparent).toBe(traceparentOf(span));
    expect(body.tracestate).toBe('vendor=abc');
    expect(body.id).toBe(event.id);
  }
});

test("emit(): the caller's active span is the parent; a local function gets its attempt's traceparent on the event", async () => {
  const gateway = await gatewayWith();
  const got = await subscribeLocal(gateway);
  const tracer = provider.getTracer('caller');
  const callerSpan = await tracer.startActiveSpan('caller', async (span) => {
    await gateway.emit(cloudEvent('order.placed', {}), { wait: true });
    span.end();
    return span;
  });
  await waitUntil(() => spans().length === 3, 5_000);
  const [accept] = spans('accept');
  const [deliver] = spans('deliver local');
  expect(accept.parentSpanContext?.spanId).toBe(callerSpan.spanContext().spanId);
  expect(ids(accept).traceId).toBe(callerSpan.spanContext().traceId);
  expect(accept.attributes['event_gateway.via']).toBe('emit');
  expect(deliver.parentSpanContext?.spanId).toBe(ids(accept).spanId);
  expect(got[0].traceparent).toBe(traceparentOf(deliver));
});

test('a plugin refusal ends the acceptance span as an error, with no attempt', async () => {
  const gateway = await gatewayWith({
    plugins: [{ name: 'no', onEvent: () => ({ refuse: 'not taken', status: 400 }) }],
  });
  await gateway.createEventType({ name: 'order.placed' });
  await expect(gateway.emit(cloudEvent('order.placed', {}))).rejects.toThrow('not taken');
  const [accept] = spans('accept');
  expect(accept.status.code).toBe(2);
  expect(accept.attributes['error.type']).toBe('EVENT_REFUSED');
  expect(spans()).toHaveLength(1);
});

test('hostile trace context (a malformed traceparent, an all-zero trace ID, a huge tracestate) starts a new trace and fails nothing', async () => {
  const gateway = await gatewayWith();
  const got = await subscribeLocal(gateway);
  for (const traceparent of [
    'nope',
    `00-${'0'.repeat(32)}-${CALLER_SPAN}-01`,
    `ff-${CALLER_TRACE}-${CALLER_SPAN}-01`,
    `00-${CALLER_TRACE}-${CALLER_SPAN}-01-extra`,
  ]) {
    await gateway.emit(
      { ...cloudEvent('order.placed', {}), traceparent, tracestate: 'x='.padEnd(4000, 'y') },
      { wait: true },
    );
  }
  await waitUntil(() => spans('deliver local').length === 4, 5_000);
  for (const accept of spans('accept')) {
    expect(accept.parentSpanContext).toBeUndefined();
    expect(accept.links).toEqual([]);
    expect(ids(accept).traceId).not.toBe(CALLER_TRACE);
  }
  expect(got).toHaveLength(4);
  // What reaches the function is the new trace's context, not the refused one.
  for (const [i, span] of spans('deliver local').entries()) {
    expect(got[i].traceparent).toBe(traceparentOf(span));
    expect(got[i].tracestate).toBeUndefined();
  }
});

test('a journaled delivery resumed after a restart keeps its trace: its attempt is a child of the acceptance span of before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracing-journal-'));
  try {
    const fn = await serve(hang);
    const store = new MemoryStore();
    const first = await gatewayWith(
      { journal: new LocalJournal({ directory: dir }), drainTimeout: 50, timeout: 60_000 },
      store,
    );
    await subscribeHttp(first, 'slow', fn.url);
    await first.emit(cloudEvent('order.placed', {}));
    await waitUntil(() => fn.requests.length === 1, 5_000);
    await first.close(); // cut short: it stays in the journal
    const [accept] = spans('accept');
    expect(attempt('slow', 1).attributes['event_gateway.outcome']).toBe('abandoned');

    fn.respond(json(200, { ok: true }));
    await gatewayWith({ journal: new LocalJournal({ directory: dir }) }, store);
    await waitUntil(() => fn.requests.length === 2, 10_000);
    await waitUntil(() => attempt('slow', 2) !== undefined, 5_000);
    const resumed = attempt('slow', 2);
    expect(ids(resumed).traceId).toBe(ids(accept).traceId);
    expect(resumed.parentSpanContext?.spanId).toBe(ids(accept).spanId);
    expect(resumed.parentSpanContext?.isRemote).toBe(true);
    expect(resumed.attributes['event_gateway.outcome']).toBe('delivered');
    expect(fn.requests[1].headers.traceparent).toBe(traceparentOf(resumed));
  } finally {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("replay: one span for the run, each replayed event's acceptance span its child (the original trace linked), attempts under them", async () => {
  const gateway = await gatewayWith();
  const got = await subscribeLocal(gateway);
  const archived = [1, 2].map((n) => ({
    space: 'default',
    method: 'POST',
    path: '/',
    acceptedAt: Date.now() - 1000,
    event: { ...cloudEvent('order.placed', { n }), traceparent: ORIGIN },
  }));
  const source = {
    name: 'memory',
    async *read() {
      yield* archived;
    },
  };
  const totals = await gateway.replay({ source, from: 0 });
  expect(totals).toMatchObject({ read: 2, emitted: 2 });
  await waitUntil(() => got.length === 2 && spans('deliver local').length === 2, 5_000);
  await waitUntil(() => spans('replay').length === 1, 5_000);
  const [replaySpan] = spans('replay');
  expect(replaySpan.attributes).toMatchObject({
    'event_gateway.replay.archive': 'memory',
    'event_gateway.replay.emitted': 2,
    'event_gateway.replay.replay_id': totals.replayId,
  });
  const accepts = spans('accept');
  expect(accepts).toHaveLength(2);
  for (const accept of accepts) {
    expect(accept.parentSpanContext?.spanId).toBe(ids(replaySpan).spanId);
    expect(ids(accept).traceId).toBe(ids(replaySpan).traceId);
    expect(accept.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
    expect(accept.attributes['event_gateway.via']).toBe('replay');
  }
  for (const deliver of spans('deliver local')) {
    expect(accepts.map((a) => ids(a).spanId)).toContain(deliver.parentSpanContext?.spanId);
  }
});

test('tracing: false traces nothing and sends no traceparent, a provider registered or not', async () => {
  const fn = await serve(json(200, {}));
  const gateway = await gatewayWith({ tracing: false });
  await subscribeHttp(gateway, 'plain', fn.url);
  await gateway.emit(cloudEvent('order.placed', {}), { wait: true });
  expect(fn.requests[0].headers.traceparent).toBeUndefined();
  expect(spans()).toEqual([]);
});

test('option "tracing" of the wrong shape is refused', () => {
  for (const tracing of ['yes', { tracerProvider: {} }, null]) {
    expect(() => createGateway(new MemoryStore(), { tracing } as never)).toThrow(
      'option "tracing" must be a boolean or { tracerProvider }',
    );
  }
});
