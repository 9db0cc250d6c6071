// The wall clock stepped back between two emits (an NTP step, a VM resumed): the restart resumed
// the later event first, since it sorted what it resumes by `acceptedAt` (the wall clock) rather
// than by the journal's own sequence.
import { createGateway, LocalJournal, type CloudEvent } from '../../lib';
import { waitUntil } from '../../lib/testing';
import { configuredStore, journalFixture, neverAnswering } from './journal-fixture';

const fx = journalFixture('eg-edge-clock-');

const event = (id: string) => ({ specversion: '1.0', id, source: '/edge', type: 'user.created' });

test('deliveries resume in the order they were accepted, even when the clock stepped back between them', async () => {
  const store = await configuredStore();
  const first = await neverAnswering(store, fx.dir);
  const now = Date.now();
  const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
  try {
    await first.emit(event('earlier'));
    clock.mockReturnValue(now - 3_600_000); // stepped back an hour
    await first.emit(event('later'));
  } finally {
    clock.mockRestore();
  }
  await first.close();

  const order: string[] = [];
  const second = createGateway(store, {
    resyncInterval: 0,
    concurrency: 1,
    journal: new LocalJournal({ directory: fx.dir }),
  });
  fx.gateways.push(second);
  second.bindLocalHandler({
    functionId: 'fn',
    handler: (e) => void order.push((e as CloudEvent).id),
  });
  await second.ready();
  await waitUntil(() => order.length === 2);
  expect(order).toEqual(['earlier', 'later']);
});
