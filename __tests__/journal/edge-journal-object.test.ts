// One journal object, one gateway: a second gateway given the same LocalJournal object (a shared
// options object, a module-level journal) failed to open it ("in use by another process"), and
// its close() then closed the first gateway's journal: the first refused every emit from then on
// while its health said ready, and the marks of its deliveries in flight were dropped.
import { createGateway, LocalJournal, MemoryStore, ValidationError } from '../../lib';
import { waitUntil } from '../../lib/testing';
import { configuredStore, journalFixture } from './journal-fixture';

const fx = journalFixture('eg-edge-obj-');

const event = (id: string) => ({ specversion: '1.0', id, source: '/edge', type: 'user.created' });

test('a second gateway given a journal object another gateway uses is refused at createGateway, and the first goes on recording', async () => {
  const journal = new LocalJournal({ directory: fx.dir });
  const store = await configuredStore();
  const first = createGateway(store, { resyncInterval: 0, journal });
  fx.gateways.push(first);
  first.bindLocalHandler({ functionId: 'fn', handler: () => new Promise(() => undefined) });
  await first.ready();

  let error: unknown;
  try {
    fx.gateways.push(createGateway(new MemoryStore(), { resyncInterval: 0, journal }));
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).code).toBe('VALIDATION_FAILED');
  expect((error as Error).message).toMatch(/journal.*another gateway/);
  // Whatever the second gateway did, the first one still records, and says so.
  for (const g of fx.gateways.slice(1)) await g.close();
  await expect(first.emit(event('after'))).resolves.toMatchObject({ accepted: 1 });
  expect(first.health().ready).toBe(true);
  await waitUntil(() => first.health().journal?.entries === 1);
});

test('a journal object is not reused after its gateway closed: a new LocalJournal on the directory resumes what it left', async () => {
  const journal = new LocalJournal({ directory: fx.dir });
  const store = await configuredStore();
  const first = createGateway(store, { resyncInterval: 0, drainTimeout: 10, journal });
  first.bindLocalHandler({ functionId: 'fn', handler: () => new Promise(() => undefined) });
  await first.ready();
  await first.emit(event('left'));
  await first.close();
  expect(() => createGateway(store, { resyncInterval: 0, journal })).toThrow(ValidationError);

  const again = createGateway(store, {
    resyncInterval: 0,
    journal: new LocalJournal({ directory: fx.dir }),
  });
  fx.gateways.push(again);
  await again.ready();
  expect(again.health().journal?.entries).toBe(1);
});
