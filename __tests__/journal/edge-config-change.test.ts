// What changes between two lives of a journaled gateway: its subscription removed, its function
// turned into another type, a smaller maxEntries. What the first life accepted is still delivered
// (to the function it was recorded for: the emit that accepted it resolved), and the second life
// resumes all of it even past its own maxEntries, refusing new events until there is room.
import { createGateway, LocalJournal, type CloudEvent, type MemoryStore } from '../../lib';
import { waitUntil } from '../../lib/testing';
import { configuredStore, journalFixture, neverAnswering } from './journal-fixture';

const fx = journalFixture('eg-edge-config-');

const event = (id: string) => ({ specversion: '1.0', id, source: '/edge', type: 'user.created' });

/** A first life that accepts `ids` and closes with them unfinished (its handler never answers). */
async function leaveUnfinished(store: MemoryStore, ids: string[]): Promise<void> {
  const first = await neverAnswering(store, fx.dir);
  for (const id of ids) await first.emit(event(id));
  const { undelivered } = await first.close();
  expect(undelivered.map((l) => l.event.id).sort()).toEqual([...ids].sort());
}

function secondLife(store: MemoryStore, maxEntries?: number) {
  const gateway = createGateway(store, {
    resyncInterval: 0,
    drainTimeout: 10,
    journal: new LocalJournal({ directory: fx.dir, ...(maxEntries ? { maxEntries } : {}) }),
  });
  fx.gateways.push(gateway);
  return gateway;
}

test('a subscription removed before the restart: its accepted delivery still goes to the function it was recorded for', async () => {
  const store = await configuredStore();
  await leaveUnfinished(store, ['job-1']);
  const admin = createGateway(store, { resyncInterval: 0 });
  await admin.ready();
  const [subscription] = await admin.listSubscriptions();
  await admin.unsubscribe({ subscriptionId: subscription.subscriptionId });
  await admin.close();

  const second = secondLife(store);
  const got: CloudEvent[] = [];
  second.bindLocalHandler({ functionId: 'fn', handler: (e) => void got.push(e as CloudEvent) });
  await second.ready();
  await waitUntil(() => got.length === 1 && second.health().journal?.entries === 0);
  expect(got[0].id).toBe('job-1');
});

test('a function turned from http into local before the restart: the delivery goes to its new handler, with the same deliveryid', async () => {
  const store = await configuredStore();
  await leaveUnfinished(store, ['job-1']);
  const admin = createGateway(store, { resyncInterval: 0 });
  await admin.ready();
  await admin.updateFunction({
    functionId: 'fn',
    type: 'http',
    provider: { url: 'http://127.0.0.1:9/' },
  });
  await admin.close();

  // Started as http (nothing answers there: retried), then turned back into a local one.
  const second = secondLife(store);
  await second.ready();
  const got: CloudEvent[] = [];
  await second.updateFunction({ functionId: 'fn', handler: (e) => void got.push(e as CloudEvent) });
  await waitUntil(() => got.length === 1 && second.health().journal?.entries === 0, 20_000);
  expect(got[0].id).toBe('job-1');
  expect(typeof got[0].deliveryid).toBe('string');
});

test('restarted with maxEntries below what the journal holds: everything resumes, new events are refused until there is room', async () => {
  const store = await configuredStore();
  const ids = ['a', 'b', 'c', 'd', 'e'];
  await leaveUnfinished(store, ids);

  const second = secondLife(store, 3);
  const release: (() => void)[] = [];
  const got: string[] = [];
  second.bindLocalHandler({
    functionId: 'fn',
    handler: (e) => {
      got.push((e as CloudEvent).id);
      return new Promise<void>((resolve) => release.push(resolve));
    },
  });
  await second.ready();
  expect(second.health().journal?.entries).toBe(5);
  await expect(second.emit(event('refused'))).rejects.toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
  });
  await waitUntil(() => got.length === 5);
  for (const resolve of release.splice(0)) resolve();
  await waitUntil(() => second.health().journal?.entries === 0);
  await expect(second.emit(event('later'))).resolves.toMatchObject({ accepted: 1 });
  expect(got.slice(0, 5).sort()).toEqual(ids);
});
