import { createGateway, DELIVERY_ID, LocalJournal, MemoryStore, type CloudEvent } from '../../lib';
import { ClassicLevel } from 'classic-level';
import { cloudEvent } from '../helpers/events';
import { configuredStore as configured, journalFixture } from './journal-fixture';

const fx = journalFixture('eg-journal-');
const { gateways } = fx;

async function journaled(store: MemoryStore, handler: (event: CloudEvent) => unknown) {
  const gateway = createGateway(store, {
    resyncInterval: 0,
    drainTimeout: 50,
    retry: { maxAttempts: 3, initialDelay: 1, maxDelay: 5 },
    journal: new LocalJournal({ directory: fx.dir }),
  });
  gateways.push(gateway);
  gateway.bindLocalHandler({ functionId: 'fn', handler: (event) => handler(event as CloudEvent) });
  await gateway.ready();
  return gateway;
}

/** A gateway on `journal` whose function `fn` runs `handler` (by default: never answers). */
async function onJournal(
  store: MemoryStore,
  journal: LocalJournal,
  handler: () => unknown = () => new Promise(() => undefined),
) {
  const gateway = createGateway(store, { resyncInterval: 0, drainTimeout: 10, journal });
  gateways.push(gateway);
  gateway.bindLocalHandler({ functionId: 'fn', handler });
  await gateway.ready();
  return gateway;
}

test('every journaled delivery carries a delivery ID, the same on every attempt', async () => {
  const store = await configured();
  const seen: string[] = [];
  const gateway = await journaled(store, (event) => {
    seen.push(event[DELIVERY_ID] as string);
    if (seen.length < 2) throw new Error('once more');
  });
  const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
  expect(outcomes?.[0]).toMatchObject({ ok: true, attempts: 2 });
  expect(seen).toHaveLength(2);
  expect(seen[0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(seen[1]).toBe(seen[0]);
  expect(gateway.metrics().journalEntries).toBe(0);
});

test('what close() cut short stays in the journal and is delivered, with its ID, after a restart', async () => {
  const store = await configured();
  const first: string[] = [];
  const gateway = await journaled(store, (event) => {
    first.push(event[DELIVERY_ID] as string);
    return new Promise(() => undefined); // never answers
  });
  await gateway.emit(cloudEvent('user.created', undefined, { id: 'kept' }));
  while (first.length === 0) await new Promise((r) => setTimeout(r, 2));
  const { undelivered } = await gateway.close();
  expect(undelivered.map((d) => d.event.id)).toEqual(['kept']);

  const second: CloudEvent[] = [];
  const restarted = await journaled(store, (event) => void second.push(event));
  while (second.length === 0) await new Promise((r) => setTimeout(r, 2));
  expect(second[0]).toMatchObject({ id: 'kept', [DELIVERY_ID]: first[0] });
  while (restarted.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 2));
  expect(restarted.health().journal).toEqual({ entries: 0, bytes: 0, damaged: 0, waiting: 0 });
});

test('a second process (or gateway) cannot open the same journal: its emits are refused', async () => {
  const store = await configured();
  await journaled(store, () => undefined);
  const other = createGateway(store, {
    resyncInterval: 0,
    journal: new LocalJournal({ directory: fx.dir }),
  });
  gateways.push(other);
  await expect(other.ready()).rejects.toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
    message: expect.stringMatching(/in use by another process/),
  });
  await expect(other.emit(cloudEvent('user.created'))).rejects.toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
  });
  expect(other.health().journal?.lastError).toMatch(/in use/);
});

test('a full journal refuses the event and accepts nothing', async () => {
  const store = await configured();
  const gateway = createGateway(store, {
    resyncInterval: 0,
    drainTimeout: 10,
    journal: new LocalJournal({ directory: fx.dir, maxEntries: 2 }),
  });
  gateways.push(gateway);
  gateway.bindLocalHandler({ functionId: 'fn', handler: () => new Promise(() => undefined) });
  await gateway.ready();
  await gateway.emit(cloudEvent('user.created'));
  await gateway.emit(cloudEvent('user.created'));
  await expect(gateway.emit(cloudEvent('user.created'))).rejects.toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
    status: 503,
    message: expect.stringMatching(/full/),
  });
  expect(gateway.metrics()).toMatchObject({ deliveriesAccepted: 2, eventsRejected: 1 });
});

test('concurrent emits share syncs (group commit)', async () => {
  const store = await configured();
  const journal = new LocalJournal({ directory: fx.dir });
  const gateway = createGateway(store, { resyncInterval: 0, journal });
  gateways.push(gateway);
  gateway.bindLocalHandler({ functionId: 'fn', handler: () => undefined });
  await gateway.ready();
  const results = await Promise.all(
    Array.from({ length: 200 }, () => gateway.emit(cloudEvent('user.created'))),
  );
  expect(results.every((r) => r.accepted === 1)).toBe(true);
  while (gateway.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 2));
  expect(gateway.metrics().deliveriesSucceeded).toBe(200);
  expect(journal.syncs).toBeLessThan(20);
});

test('producers that emit again as soon as their last emit resolved share one sync per wave', async () => {
  const store = await configured();
  const journal = new LocalJournal({ directory: fx.dir });
  const gateway = await onJournal(store, journal, () => undefined);
  const before = journal.syncs;
  const producer = async () => {
    for (let round = 0; round < 100; round++) await gateway.emit(cloudEvent('user.created'));
  };
  await Promise.all(Array.from({ length: 16 }, producer));
  // 100 waves of 16 emits: one sync each (written at once, each wave took two).
  expect(journal.syncs - before).toBeLessThanOrEqual(105);
});

test('a journal at maxBytes refuses events until deliveries end, then accepts again', async () => {
  const store = await configured();
  const journal = new LocalJournal({ directory: fx.dir, maxBytes: 4000 });
  const held: (() => void)[] = [];
  const gateway = await onJournal(
    store,
    journal,
    () => new Promise<void>((resolve) => held.push(resolve)),
  );
  const big = () => cloudEvent('user.created', { text: 'x'.repeat(900) });
  let accepted = 0;
  let refused: unknown;
  while (!refused) {
    await gateway.emit(big()).then(
      () => accepted++,
      (error: unknown) => (refused = error),
    );
  }
  expect(refused).toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
    status: 503,
    message: expect.stringMatching(/full \(\d+ bytes, maxBytes 4000\)/),
  });
  expect(accepted).toBeGreaterThanOrEqual(2);
  const { bytes } = journal.size();
  expect(bytes).toBeGreaterThan(4000 - 1200);
  expect(bytes).toBeLessThanOrEqual(4000);
  expect(gateway.health().journal?.bytes).toBe(bytes);
  expect(gateway.metrics().journalBytes).toBe(bytes);
  // A delivery larger than the whole journal is refused, saying so.
  await expect(
    gateway.emit(cloudEvent('user.created', { text: 'x'.repeat(5000) })),
  ).rejects.toMatchObject({ message: expect.stringMatching(/more than maxBytes 4000/) });

  // Drained: every group ended, its records deleted, and the journal accepts again.
  while (held.length < accepted) await new Promise((r) => setTimeout(r, 2));
  for (const release of held.splice(0)) release();
  while (journal.size().entries > 0) await new Promise((r) => setTimeout(r, 2));
  expect(journal.size().bytes).toBe(0);
  await expect(gateway.emit(big())).resolves.toMatchObject({ accepted: 1 });
});

test('a write that fails refuses its emits and gives their entries and bytes back', async () => {
  const store = await configured();
  const journal = new LocalJournal({ directory: fx.dir });
  const gateway = await onJournal(store, journal);
  await gateway.emit(cloudEvent('user.created'));
  const before = journal.size();
  const db = (journal as unknown as { db: { batch: () => Promise<void> } }).db;
  db.batch = () => Promise.reject(new Error('disk gone'));
  const results = await Promise.allSettled(
    Array.from({ length: 3 }, () => gateway.emit(cloudEvent('user.created'))),
  );
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  expect((results[0] as PromiseRejectedResult).reason).toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
    message: expect.stringMatching(/could not write: disk gone/),
  });
  expect(journal.size()).toMatchObject({
    entries: before.entries,
    bytes: before.bytes,
    failure: 'disk gone',
  });
});

test('the bytes a journal holds are counted again after a restart', async () => {
  const store = await configured();
  const first = await onJournal(store, new LocalJournal({ directory: fx.dir }));
  await first.emit(cloudEvent('user.created', { text: 'y'.repeat(500) }));
  await first.close();
  const journal = new LocalJournal({ directory: fx.dir });
  await onJournal(store, journal);
  expect(journal.size()).toMatchObject({ entries: 1, bytes: expect.any(Number) });
  expect(journal.size().bytes).toBeGreaterThan(500);
});

test('after a restart, with waitForFunctions 0, a delivery whose function was deleted meanwhile is dead-lettered at once and leaves the journal', async () => {
  const store = await configured();
  const held: string[] = [];
  const gateway = await journaled(store, (event) => {
    held.push(event.id);
    return new Promise(() => undefined);
  });
  await gateway.emit(cloudEvent('user.created', undefined, { id: 'orphan' }));
  while (held.length === 0) await new Promise((r) => setTimeout(r, 2));
  await gateway.close();
  // Meanwhile, another instance removes the subscription and the function.
  const admin = createGateway(store, { resyncInterval: 0 });
  await admin.ready();
  const [sub] = admin.listSubscriptions();
  await admin.unsubscribe({ subscriptionId: sub.subscriptionId });
  await admin.deleteFunction({ functionId: 'fn' });
  await admin.close();

  const letters: { reason: string; id: string }[] = [];
  const restarted = createGateway(store, {
    resyncInterval: 0,
    // By default it would wait for the function to come back (see resume-wait.test.ts).
    journal: new LocalJournal({ directory: fx.dir, waitForFunctions: 0 }),
    onDeadLetter: (letter) => void letters.push({ reason: letter.reason, id: letter.event.id }),
  });
  gateways.push(restarted);
  await restarted.ready();
  expect(letters).toEqual([
    { id: 'orphan', reason: expect.stringMatching(/not in this instance's configuration/) },
  ]);
  while ((restarted.metrics().journalEntries ?? 0) > 0) await new Promise((r) => setTimeout(r, 2));
});

test('a gateway closed while its journal opens lets the directory go', async () => {
  const store = await configured();
  const early = createGateway(store, {
    resyncInterval: 0,
    journal: new LocalJournal({ directory: fx.dir }),
  });
  await early.close();
  await new Promise((r) => setTimeout(r, 50));
  const gateway = await journaled(store, () => undefined);
  expect((await gateway.emit(cloudEvent('user.created'), { wait: true })).accepted).toBe(1);
});

test('attempts and age go on across a restart: maxAge still ends a delivery', async () => {
  const store = await configured();
  // Retries wait under 250 ms (full jitter): always within maxAge before the restart, never after.
  const retry = { maxAttempts: 10, initialDelay: 250, maxDelay: 250, maxAge: 300 };
  const first = createGateway(store, {
    resyncInterval: 0,
    drainTimeout: 10,
    retry,
    journal: new LocalJournal({ directory: fx.dir }),
  });
  let calls = 0;
  first.bindLocalHandler({
    functionId: 'fn',
    handler: () => {
      calls++;
      throw new Error('down');
    },
  });
  await first.ready();
  await first.emit(cloudEvent('user.created', undefined, { id: 'aging' }));
  while (calls === 0) await new Promise((r) => setTimeout(r, 2));
  const { undelivered } = await first.close(); // waiting for its retry: kept in the journal
  expect(undelivered.map((d) => d.event.id)).toEqual(['aging']);
  await new Promise((r) => setTimeout(r, 350)); // older than maxAge by now

  const letters: { reason: string; attempts: number }[] = [];
  const second = createGateway(store, {
    resyncInterval: 0,
    retry,
    journal: new LocalJournal({ directory: fx.dir }),
    onDeadLetter: (l) => void letters.push({ reason: l.reason, attempts: l.attempts }),
  });
  gateways.push(second);
  second.bindLocalHandler({
    functionId: 'fn',
    handler: () => {
      throw new Error('still down');
    },
  });
  await second.ready();
  while (letters.length === 0) await new Promise((r) => setTimeout(r, 2));
  // The attempts made before the restart count: the first one here is at least the second.
  expect(letters).toEqual([
    {
      attempts: calls + 1,
      reason: expect.stringMatching(/would pass maxAge \(300 ms\)/),
    },
  ]);
});

test("a wave's record holds each event's JSON once, however many deliveries it has, and they all resume", async () => {
  const marker = 'x'.repeat(300);
  const event = { specversion: '1.0', id: 'e1', source: '/t', type: 't', data: { marker } };
  const entries = ['d1', 'd2', 'd3'].map((deliveryId, i) => ({
    deliveryId,
    space: 'default',
    event: { ...event, deliveryid: deliveryId } as unknown as CloudEvent,
    subscriptionId: `sub-${i}`,
    functionId: `fn-${i}`,
    attempts: 0,
    acceptedAt: 1_790_000_000_000,
  }));
  const sink = { take: async () => undefined, report: () => undefined };
  const journal = new LocalJournal({ directory: fx.dir });
  await journal.open(sink);
  await journal.record(entries);
  const { bytes } = journal.size();
  await journal.close();
  const db = new ClassicLevel<string, string>(fx.dir);
  const values: string[] = [];
  for await (const [key, value] of db.iterator({ gte: 's/', lt: 's0' })) {
    expect(key).toMatch(/^s\//);
    values.push(value);
  }
  await db.close();
  expect(values).toHaveLength(1);
  expect(values[0].split(marker)).toHaveLength(2);
  // What the journal counts is what it wrote.
  expect(bytes).toBe(Buffer.byteLength(values[0]));
  const resumed: unknown[] = [];
  const again = new LocalJournal({ directory: fx.dir });
  await again.open({ take: async (e) => void resumed.push(...e), report: () => undefined });
  await again.close();
  expect(resumed).toEqual(entries);
});

test('an emit made while a wave is syncing is written at once, and settles only after that wave: a refused wave rejects exactly its emits', async () => {
  const store = await configured();
  const journal = new LocalJournal({ directory: fx.dir });
  const delivered: string[] = [];
  const gateway = await onJournal(store, journal, () => undefined);
  gateway.bindLocalHandler({
    functionId: 'fn',
    handler: (event) => void delivered.push((event as CloudEvent).id),
  });
  type Batch = (ops: unknown, options?: { sync?: boolean }) => Promise<void>;
  const db = (journal as unknown as { db: { batch: Batch } }).db;
  const batch = db.batch.bind(db);
  // The first synced batch is held, then refused; the rest are written.
  let refuse!: (error: Error) => void;
  let held = false;
  let issued = 0;
  db.batch = (ops: unknown, options?: { sync?: boolean }) => {
    if (!options?.sync) return batch(ops, options);
    issued++;
    if (held) return batch(ops, options);
    held = true;
    return new Promise<void>((_, reject) => (refuse = reject));
  };
  const settled: string[] = [];
  const first = gateway.emit(cloudEvent('user.created', undefined, { id: 'first' })).then(
    () => settled.push('first resolved'),
    (error: unknown) => {
      settled.push('first rejected');
      return error;
    },
  );
  while (issued < 1) await new Promise((r) => setImmediate(r));
  // Another turn, the first wave still syncing: the second wave goes to disk now.
  const second = gateway
    .emit(cloudEvent('user.created', undefined, { id: 'second' }))
    .then(() => settled.push('second resolved'));
  for (let i = 0; i < 50 && issued < 2; i++) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => setTimeout(r, 50)); // the second wave's own sync is long done
  const whileHeld = { issued, settled: [...settled], delivered: [...delivered] };
  refuse(new Error('disk gone'));
  expect(whileHeld).toEqual({ issued: 2, settled: [], delivered: [] });
  expect(await first).toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
  await second;
  expect(settled).toEqual(['first rejected', 'second resolved']);
  while (delivered.length < 1) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => setTimeout(r, 20));
  expect(delivered).toEqual(['second']);
});

test("the deliveries a sync released start after the next wave's write was issued, never before their own sync", async () => {
  const store = await configured();
  const journal = new LocalJournal({ directory: fx.dir });
  type Batch = (ops: { value?: string }[], options?: { sync?: boolean }) => Promise<void>;
  // Each event's wave (1, 2, ...), and at each delivery how many synced waves were issued and done.
  const waveOf = new Map<string, number>();
  let issued = 0;
  let done = 0;
  const seen: { wave: number; issued: number; done: number }[] = [];
  const gateway = await onJournal(store, journal, () => undefined);
  gateway.bindLocalHandler({
    functionId: 'fn',
    handler: (event) =>
      void seen.push({ wave: waveOf.get((event as CloudEvent).id) ?? 0, issued, done }),
  });
  const db = (journal as unknown as { db: { batch: Batch } }).db;
  const batch = db.batch.bind(db);
  db.batch = (ops, options) => {
    if (!options?.sync) return batch(ops, options);
    const wave = ++issued;
    for (const op of ops) {
      for (const [, id] of (op.value ?? '').matchAll(/"id":"(p\d+-r\d+)"/g)) waveOf.set(id, wave);
    }
    return batch(ops, options).then(() => void done++);
  };
  const rounds = 20;
  const producer = async (p: number) => {
    for (let r = 0; r < rounds; r++) {
      await gateway.emit(cloudEvent('user.created', undefined, { id: `p${p}-r${r}` }));
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, p) => producer(p)));
  while (gateway.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 2));
  expect(seen).toHaveLength(8 * rounds);
  // Never before their own wave's sync.
  expect(seen.filter((s) => s.wave === 0 || s.done < s.wave)).toEqual([]);
  // The producers' next emits (the next wave) went to disk before these deliveries' work ran, so
  // it overlaps that sync instead of delaying it (but for the last wave: no next one).
  const last = Math.max(...seen.map((s) => s.wave));
  expect(seen.filter((s) => s.wave < last && s.issued <= s.wave)).toEqual([]);
});

test('finished marks, attempt counts and deletes wait for the lazy timer: no batch of their own between a sync and the next wave', async () => {
  const store = await configured();
  const journal = new LocalJournal({ directory: fx.dir });
  const gateway = await onJournal(store, journal, () => undefined);
  type Op = { type: string; key: string };
  type Batch = (ops: Op[], options?: { sync?: boolean }) => Promise<void>;
  const db = (journal as unknown as { db: { batch: Batch } }).db;
  const batch = db.batch.bind(db);
  const withLists: number[] = [];
  let unsynced = 0;
  let synced = 0;
  db.batch = (ops, options) => {
    if (options?.sync) synced++;
    else unsynced++;
    if (ops.some((op) => op.type === 'del' || !op.key.startsWith('s/'))) {
      withLists.push(performance.now());
    }
    return batch(ops, options);
  };
  const producer = async () => {
    for (let round = 0; round < 50; round++) await gateway.emit(cloudEvent('user.created'));
  };
  await Promise.all(Array.from({ length: 8 }, producer));
  while (gateway.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => setTimeout(r, 30)); // the last lists
  expect(synced).toBeGreaterThanOrEqual(50);
  expect(withLists.length).toBeGreaterThan(0);
  // Written when the timer (10 ms) fires, never sooner: a wave no longer pays for a batch of its
  // own (each took one: as many unsynced batches as synced ones).
  const gaps = withLists.slice(1).map((t, i) => t - withLists[i]);
  expect(gaps.filter((gap) => gap < 9)).toEqual([]);
  expect(unsynced).toBeLessThanOrEqual(withLists.length);
});
