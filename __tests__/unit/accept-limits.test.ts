import {
  createGateway,
  EventsApi,
  GatewayError,
  MemoryStore,
  type ArchiveSource,
  type Gateway,
} from '../../lib';

// Every way in parses an event once, with the gateway's limits: the same event is accepted or
// refused alike through `emit`, the Events API (one event, a batch) and replay.

const MAX_DEPTH = 100;
const MAX_HOPS = 3;

/** Data nested `depth` levels deep. */
function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
}

function event(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { specversion: '1.0', id: 'e1', source: '/test', type: 'user.created', ...extra };
}

interface Case {
  readonly name: string;
  /** The event as a client sends it. */
  readonly event: Record<string, unknown>;
  /** The space it is sent to. @default 'default' */
  readonly space?: string;
  /** Refused with this code (and its status over HTTP), or accepted. */
  readonly refused?: { code: string; status: number };
}

const withoutField = (name: string) => {
  const out = event();
  delete out[name];
  return out;
};

const CASES: Case[] = [
  { name: `data nested 80 deep (maxDataDepth ${MAX_DEPTH})`, event: event({ data: nested(80) }) },
  {
    name: `data nested ${MAX_DEPTH + 1} deep`,
    event: event({ data: nested(MAX_DEPTH + 1) }),
    refused: { code: 'VALIDATION_FAILED', status: 400 },
  },
  {
    name: `hopcount ${MAX_HOPS - 1} (maxHops ${MAX_HOPS})`,
    event: event({ hopcount: MAX_HOPS - 1 }),
  },
  {
    name: `hopcount ${MAX_HOPS} (one more hop passes maxHops)`,
    event: event({ hopcount: MAX_HOPS }),
    refused: { code: 'HOP_LIMIT', status: 422 },
  },
  {
    name: 'a reserved system event type',
    event: event({ type: 'eventgateway.event.received' }),
    refused: { code: 'VALIDATION_FAILED', status: 400 },
  },
  {
    name: 'an invalid space',
    event: event(),
    space: 'not a space!',
    refused: { code: 'VALIDATION_FAILED', status: 400 },
  },
  {
    name: 'no id',
    event: withoutField('id'),
    refused: { code: 'VALIDATION_FAILED', status: 400 },
  },
  {
    name: 'no type',
    event: withoutField('type'),
    refused: { code: 'VALIDATION_FAILED', status: 400 },
  },
  {
    name: 'an id longer than a name may be',
    event: event({ id: 'x'.repeat(100_000) }),
    refused: { code: 'VALIDATION_FAILED', status: 400 },
  },
];

type Outcome = { accepted: true } | { accepted: false; code?: string; status?: number };

let gateway: Gateway;
let delivered: number;

beforeAll(async () => {
  gateway = createGateway(new MemoryStore(), { maxDataDepth: MAX_DEPTH, maxHops: MAX_HOPS });
  await gateway.ready();
  await gateway.createEventType({ name: 'user.created' });
  await gateway.registerFunction({ functionId: 'sink', handler: () => void delivered++ });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'sink' });
});

afterAll(() => gateway.close());

beforeEach(() => {
  delivered = 0;
});

async function viaEmit(c: Case): Promise<Outcome> {
  try {
    await gateway.emit(c.event, { space: c.space ?? 'default', wait: true });
    return { accepted: true };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { accepted: false, code: error.code, status: error.status };
  }
}

async function viaHttp(c: Case, batch: boolean): Promise<Outcome> {
  const api = new EventsApi(gateway, { space: c.space ?? 'default' });
  const response = await api.handle({
    method: 'POST',
    url: '/',
    headers: {
      'content-type': batch ? 'application/cloudevents-batch+json' : 'application/cloudevents+json',
    },
    parsedBody: Buffer.from(JSON.stringify(batch ? [c.event] : c.event)),
  });
  if (response.status === 202) return { accepted: true };
  return { accepted: false, status: response.status };
}

async function viaReplay(c: Case): Promise<Outcome> {
  // An archive holds an event as accepted: its hop already counted (replay does not count it again).
  const hops = c.event.hopcount;
  const archived = typeof hops === 'number' ? { ...c.event, hopcount: hops + 1 } : c.event;
  const source: ArchiveSource = {
    name: 'memory',
    async *read() {
      yield {
        space: c.space ?? 'default',
        method: 'POST',
        path: '/',
        acceptedAt: 1,
        event: archived,
      };
    },
  };
  const totals = await gateway.replay({ source, from: 0, to: 2 });
  return totals.emitted === 1 ? { accepted: true } : { accepted: false };
}

describe.each(CASES)('$name', (c) => {
  test('emit', async () => {
    const outcome = await viaEmit(c);
    expect(outcome).toEqual(c.refused ? { accepted: false, ...c.refused } : { accepted: true });
  });

  test('the Events API, one event', async () => {
    const outcome = await viaHttp(c, false);
    expect(outcome).toEqual(
      c.refused ? { accepted: false, status: c.refused.status } : { accepted: true },
    );
  });

  test('the Events API, a batch', async () => {
    const outcome = await viaHttp(c, true);
    expect(outcome).toEqual(
      c.refused ? { accepted: false, status: c.refused.status } : { accepted: true },
    );
  });

  test('replay', async () => {
    const outcome = await viaReplay(c);
    expect(outcome).toEqual({ accepted: c.refused === undefined });
  });
});

test('intake plugins see every way in after the hop check, with the hop counted', async () => {
  const seen: [string, unknown][] = [];
  const looped: string[] = [];
  const g = createGateway(new MemoryStore(), { maxHops: MAX_HOPS });
  g.use({ name: 'watch', onEvent: (e, context) => void seen.push([context.via, e.hopcount]) });
  g.on('event.refused', ({ code }) => void looped.push(code));
  await g.ready();
  await g.createEventType({ name: 'user.created' });
  const api = new EventsApi(g);
  const post = (body: unknown, type = 'application/cloudevents+json') =>
    api.handle({
      method: 'POST',
      url: '/',
      headers: { 'content-type': type },
      parsedBody: Buffer.from(JSON.stringify(body)),
    });
  await g.emit(event({ hopcount: 1 }));
  expect((await post(event({ hopcount: 1 }))).status).toBe(202);
  expect((await post([event({ hopcount: 1 })], 'application/cloudevents-batch+json')).status).toBe(
    202,
  );
  // A looping event is refused before any plugin sees it, whichever way it came.
  await expect(g.emit(event({ hopcount: MAX_HOPS }))).rejects.toThrow(/more than 3 times/);
  expect((await post(event({ hopcount: MAX_HOPS }))).status).toBe(422);
  expect(seen).toEqual([
    ['emit', 2],
    ['http', 2],
    ['batch', 2],
  ]);
  expect(looped).toEqual(['HOP_LIMIT', 'HOP_LIMIT']);
  await g.close();
});
