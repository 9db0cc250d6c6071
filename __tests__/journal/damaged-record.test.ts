// A LocalJournal directory with damaged records in it, written with classic-level directly under
// the journal's key layout, then reopened for real: the damaged records are set aside (kept,
// reported, counted) and every valid delivery resumes.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClassicLevel } from 'classic-level';
import { Registry } from 'prom-client';
import {
  createConfigHandler,
  createEventsHandler,
  createGateway,
  LocalJournal,
  MemoryStore,
  registerPrometheusMetrics,
  type CloudEvent,
  type Journal,
} from '../../lib';
import { waitUntil } from '../../lib/testing';
import { cloudEvent } from '../helpers/events';
import { configuredStore as configured, journalFixture } from './journal-fixture';

const fx = journalFixture('eg-damaged-');
const { gateways } = fx;

/** A journal of another make, whose methods do as `overrides` say (by default, nothing). */
function otherJournal(overrides: Partial<Journal>): Journal {
  return {
    open: () => Promise.resolve(),
    record: () => Promise.resolve(),
    attempted: () => undefined,
    finished: () => undefined,
    size: () => ({ entries: 0 }),
    close: () => Promise.resolve(),
    ...overrides,
  };
}

/** A journaled gateway; `errors` hears its `gateway.error` reports from its creation on. */
function journaled(store: MemoryStore, handler: (event: CloudEvent) => unknown) {
  const journal = new LocalJournal({ directory: fx.dir });
  const gateway = createGateway(store, {
    resyncInterval: 0,
    drainTimeout: 20,
    journal,
  });
  gateways.push(gateway);
  const errors: Error[] = [];
  gateway.on('gateway.error', (error) => void errors.push(error));
  gateway.bindLocalHandler({ functionId: 'fn', handler: (event) => handler(event as CloudEvent) });
  return { gateway, journal, errors };
}

async function raw(): Promise<ClassicLevel<Buffer, Buffer>> {
  const db = new ClassicLevel<Buffer, Buffer>(fx.dir, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  await db.open();
  return db;
}

async function rawEntries(): Promise<Map<string, Buffer>> {
  const db = await raw();
  try {
    const out = new Map<string, Buffer>();
    for await (const [key, value] of db.iterator()) out.set(key.toString('latin1'), value);
    return out;
  } finally {
    await db.close();
  }
}

// Not UTF-8, not JSON: what a torn or foreign write leaves.
const GARBAGE = Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0xc3, 0x28]);

test('damaged records are set aside (kept with their bytes and reason, reported, counted) and every valid delivery resumes', async () => {
  const store = await configured();
  // A first life leaves one valid delivery unfinished.
  const first = journaled(store, () => new Promise(() => undefined));
  await first.gateway.ready();
  await first.gateway.emit(cloudEvent('user.created', undefined, { id: 'valid' }));
  await first.gateway.close();

  // Damage written under the journal's layout.
  const salvaged = {
    deliveryId: '11111111-2222-4333-8444-555555555555',
    space: 'default',
    event: {
      specversion: '1.0',
      id: 'salvaged',
      source: '/tests',
      type: 'user.created',
      deliveryid: '11111111-2222-4333-8444-555555555555',
    },
    subscriptionId: 'whatever',
    functionId: 'fn',
    attempts: 0,
    acceptedAt: Date.now(),
  };
  const mixed = JSON.stringify([salvaged, { deliveryId: 7 }]);
  const db = await raw();
  await db.batch([
    { type: 'put', key: Buffer.from('s/000000000000900'), value: GARBAGE },
    { type: 'put', key: Buffer.from('s/000000000000901'), value: Buffer.from(mixed) },
    { type: 'put', key: Buffer.from('f/000000000000001/000000000000902'), value: Buffer.from('{') },
    { type: 'put', key: Buffer.from([0x7a, 0xff, 0x2f]), value: Buffer.from('foreign') },
  ]);
  await db.close();

  const seen: string[] = [];
  const second = journaled(store, (event) => void seen.push(event.id));
  await expect(second.gateway.ready()).resolves.toBeUndefined();
  await waitUntil(() => seen.length >= 2);
  expect(seen.sort()).toEqual(['salvaged', 'valid']);
  // Reported on gateway.error, one report per record, naming it.
  expect(second.errors.map((e) => (e as { code?: string }).code)).toEqual(
    Array(4).fill('JOURNAL_RECORD_DAMAGED'),
  );
  const messages = second.errors.map((e) => e.message).join('\n');
  expect(messages).toMatch(/s\/000000000000900/);
  expect(messages).toMatch(/s\/000000000000901.*1 of its 2 entries \(at index 1\)/);
  expect(messages).toMatch(/f\/000000000000001\/000000000000902/);
  // Health and metrics tell the truth.
  expect(second.gateway.health()).toMatchObject({ ready: true, journal: { damaged: 4 } });
  expect(second.gateway.metrics().journalDamaged).toBe(4);
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(second.gateway, { registry });
  expect(await registry.metrics()).toContain('eventgateway_journal_damaged_records 4');
  unregister();
  const kept = await second.journal.damagedRecords();
  expect(kept).toHaveLength(4);
  const byKey = new Map(kept.map((r) => [r.key, r]));
  expect(byKey.get('s/000000000000900')?.value.equals(GARBAGE)).toBe(true);
  expect(byKey.get('s/000000000000900')?.reason).toMatch(/UTF-8|JSON/);
  expect(byKey.get('s/000000000000901')?.value.toString()).toBe(mixed);
  await waitUntil(() => second.gateway.metrics().journalEntries === 0);
  await second.gateway.close();

  // On disk: the damaged keys left the layout, and are kept under d/ with their bytes.
  const onDisk = await rawEntries();
  expect([...onDisk.keys()].filter((k) => !k.startsWith('d/'))).toEqual([]);
  expect([...onDisk.keys()].filter((k) => k.startsWith('d/'))).toHaveLength(4);

  // A third life reports nothing new and counts the same records once.
  const third = journaled(store, () => undefined);
  await third.gateway.ready();
  expect(third.errors).toEqual([]);
  expect(third.gateway.health().journal).toMatchObject({ entries: 0, damaged: 4 });
  // An operator who has looked at them discards them.
  expect(await third.journal.discardDamaged()).toBe(4);
  expect(third.gateway.health().journal).toMatchObject({ damaged: 0 });
});

test('a journal that cannot open: ready() rejects with JournalUnavailableError, health says not ready, and emits and the Events API answer 503', async () => {
  const store = await configured();
  // A journal that fails with a raw error, as a damaged disk or a third-party journal may.
  const broken = otherJournal({
    open: () => Promise.reject(new SyntaxError('Unexpected token in JSON at position 0')),
  });
  const gateway = createGateway(store, { resyncInterval: 0, journal: broken });
  gateways.push(gateway);
  await expect(gateway.ready()).rejects.toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
    status: 503,
    message: expect.stringMatching(/Unexpected token/),
  });
  expect(gateway.health()).toMatchObject({
    ready: false,
    journal: { lastError: expect.stringMatching(/Unexpected token/) },
  });
  await expect(gateway.emit(cloudEvent('user.created'))).rejects.toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
    status: 503,
  });
  const events = createServer(createEventsHandler(gateway));
  const config = createServer(createConfigHandler(gateway));
  const url = async (server: typeof events) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  try {
    const res = await fetch(`${await url(events)}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(cloudEvent('user.created')),
    });
    expect(res.status).toBe(503);
    const status = await fetch(`${await url(config)}/v1/status`);
    expect(status.status).toBe(503);
    expect(await status.text()).toMatch(/the journal is unavailable: .*Unexpected token/);
  } finally {
    for (const server of [events, config]) {
      server.closeAllConnections();
      server.close();
    }
  }
});

test('a journal whose record fails with a raw error: emit rejects with JournalUnavailableError (503), accepting nothing', async () => {
  const store = await configured();
  const failing = otherJournal({
    record: () => Promise.reject(new RangeError('disk quota exceeded')),
  });
  const gateway = createGateway(store, { resyncInterval: 0, journal: failing });
  gateways.push(gateway);
  gateway.bindLocalHandler({ functionId: 'fn', handler: () => undefined });
  await gateway.ready();
  await expect(gateway.emit(cloudEvent('user.created'))).rejects.toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
    status: 503,
    message: expect.stringMatching(/disk quota exceeded/),
  });
  expect(gateway.metrics()).toMatchObject({ deliveriesAccepted: 0, deliveriesPending: 0 });
});

test('a journal directory locked by another process: health says not ready while ready() rejects', async () => {
  const store = await configured();
  const { gateway: owner } = journaled(store, () => undefined);
  await owner.ready();
  const other = createGateway(store, {
    resyncInterval: 0,
    journal: new LocalJournal({ directory: fx.dir }),
  });
  gateways.push(other);
  await expect(other.ready()).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
  expect(other.health()).toMatchObject({ ready: false });
});
