// A LocalJournal directory written by another writer (a newer version numbering its keys past
// what a JavaScript number holds exactly: nanosecond timestamps, say), then opened for real. A
// sequence number that cannot be counted on exactly must be set aside, reported, like any record
// this version cannot read: read as a rounded number, it made every new group of deliveries take
// the same key (each wave overwrote the last: accepted events lost without a word) and the group's
// deletion aim at a key that is not its own (resumed again on every start).
import { ClassicLevel } from 'classic-level';
import { createGateway, LocalJournal, MemoryStore, type CloudEvent } from '../../lib';
import { waitUntil } from '../../lib/testing';
import { configuredStore, journalFixture } from './journal-fixture';

const fx = journalFixture('eg-edge-records-');

function journaled(store: MemoryStore, handler: (event: CloudEvent) => unknown) {
  const gateway = createGateway(store, {
    resyncInterval: 0,
    drainTimeout: 20,
    journal: new LocalJournal({ directory: fx.dir }),
  });
  fx.gateways.push(gateway);
  const errors: Error[] = [];
  gateway.on('gateway.error', (error) => void errors.push(error));
  gateway.bindLocalHandler({ functionId: 'fn', handler: (event) => handler(event as CloudEvent) });
  return { gateway, errors };
}

const event = (id: string) => ({ specversion: '1.0', id, source: '/edge', type: 'user.created' });

test('a group keyed past 2^52 is set aside and reported; the groups written after it each keep their own key and resume', async () => {
  const store = await configuredStore();
  // A first life leaves one delivery unfinished; its group is moved to a key of 19 digits.
  const first = journaled(store, () => new Promise(() => undefined));
  await first.gateway.ready();
  await first.gateway.emit(event('foreign'));
  await first.gateway.close();
  const db = new ClassicLevel<string, string>(fx.dir, { valueEncoding: 'utf8' });
  await db.open();
  const keys = await db.keys().all();
  const group = keys.find((k) => k.startsWith('s/')) as string;
  await db.batch([
    { type: 'put', key: 's/1700000000000000001', value: (await db.get(group)) as string },
    { type: 'del', key: group },
  ]);
  await db.close();

  // Second life: the foreign group is set aside, reported; three events are left unfinished,
  // each recorded in its own group (emitted one after the other).
  const second = journaled(store, () => new Promise(() => undefined));
  await second.gateway.ready();
  for (const id of ['a', 'b', 'c']) await second.gateway.emit(event(id));
  expect(second.gateway.health().journal).toMatchObject({ entries: 3, damaged: 1 });
  expect(second.errors.map((e) => e.message).join('\n')).toMatch(/s\/1700000000000000001/);
  await second.gateway.close();

  // Third life: all three resume; the one set aside stays aside.
  const resumed: string[] = [];
  const third = journaled(store, (e) => void resumed.push(e.id));
  await third.gateway.ready();
  await waitUntil(() => resumed.length >= 3);
  await new Promise((r) => setTimeout(r, 100));
  expect(resumed.sort()).toEqual(['a', 'b', 'c']);
  expect(third.gateway.health().journal).toMatchObject({ damaged: 1 });
});
