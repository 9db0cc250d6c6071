// A journaled delivery that fails for good ends only once its dead letter is reported: real
// gateway processes with a slow onDeadLetter hook, SIGKILLed while the hook runs, and a gateway
// closing while one runs; and a delivery resumed after a restart keeps to its retry policy.
import {
  createGateway,
  LocalJournal,
  MemoryStore,
  type DeadLetter,
  type Gateway,
  type GatewayHealth,
} from '../../lib';
import { waitUntil } from '../../lib/testing';
import { edgeChildren, edgeFunction } from './edge-helpers';

jest.setTimeout(60_000);

const { fx, start } = edgeChildren('eg-edge-dl-');

/** A local function `fn`, subscribed to `job.created`, that fails every event for good. */
async function refusingFunction(gateway: Gateway): Promise<void> {
  await gateway.registerFunction({
    functionId: 'fn',
    handler: () => {
      throw Object.assign(new Error('refused'), { retryable: false });
    },
  });
  await gateway.createEventType({ name: 'job.created' });
  await gateway.subscribe({ eventType: 'job.created', functionId: 'fn' });
}

const RETRY = { maxAttempts: 2, initialDelay: 5, maxDelay: 5, maxAge: 600_000 };

test('killed while its onDeadLetter hook runs, a journaled delivery is dead-lettered again after the restart, not lost', async () => {
  const fn = await edgeFunction(() => 400); // a final failure: dead-lettered at once
  try {
    const first = await start({ url: fn.url, retry: RETRY, hookDelay: 5_000 });
    await first.emit(['job-1']);
    await waitUntil(() => fn.received.includes('job-1'));
    // Long enough for the journal's lazy writes (finished marks: ~10 ms), not for the hook.
    await new Promise((r) => setTimeout(r, 300));
    await first.kill();
    expect(first.said('deadLettered')).toEqual([]);

    const second = await start({ url: fn.url, retry: RETRY });
    const letter = await second.until((m) => m.deadLettered === 'job-1', 'job-1 dead-lettered');
    expect(letter.reason).toMatch(/final failure|attempts/);
  } finally {
    fn.close();
  }
});

test('close() waits for the onDeadLetter hooks running (within drainTimeout) before it closes the journal', async () => {
  const store = new MemoryStore();
  let hookDone = false;
  const letters: DeadLetter[] = [];
  const gateway = createGateway(store, {
    resyncInterval: 0,
    drainTimeout: 5_000,
    journal: new LocalJournal({ directory: fx.dir }),
    onDeadLetter: async (letter) => {
      await new Promise((r) => setTimeout(r, 300));
      letters.push(letter);
      hookDone = true;
    },
  });
  await refusingFunction(gateway);
  await gateway.ready();
  await gateway.emit({ specversion: '1.0', id: 'job-1', source: '/edge', type: 'job.created' });
  await waitUntil(() => gateway.metrics().deliveriesDeadLettered === 1);
  await gateway.close();
  expect(hookDone).toBe(true);
  expect(letters.map((l) => l.event.id)).toEqual(['job-1']);

  // And the journal holds nothing more: the next start resumes nothing.
  const again = createGateway(store, {
    resyncInterval: 0,
    journal: new LocalJournal({ directory: fx.dir }),
  });
  fx.gateways.push(again);
  await again.ready();
  expect((again.health() as GatewayHealth).journal?.entries).toBe(0);
});

test('a delivery resumed after a kill during its last attempt is made once more, and one killed during that extra attempt too is dead-lettered, not attempted past it', async () => {
  // The first attempt fails (may pass), the next ones never answer: killed during each.
  const fn = await edgeFunction((_id, nth) => (nth === 1 ? 503 : 'hold'));
  try {
    const first = await start({ url: fn.url, retry: RETRY, timeout: 30_000 });
    await first.emit(['job-1']);
    await waitUntil(() => fn.received.length === 2);
    await new Promise((r) => setTimeout(r, 300)); // the attempt count is written (~10 ms)
    await first.kill();

    // The last attempt's outcome was lost: it is made again, once.
    const second = await start({ url: fn.url, retry: RETRY, timeout: 30_000 });
    await waitUntil(() => fn.received.length === 3);
    await new Promise((r) => setTimeout(r, 300));
    await second.kill();
    expect(second.said('deadLettered')).toEqual([]);

    const third = await start({ url: fn.url, retry: RETRY });
    const letter = await third.until((m) => m.deadLettered === 'job-1', 'job-1 dead-lettered');
    expect(letter.attempts).toBe(3);
    expect(letter.reason).toMatch(/3 attempts were made before the gateway restarted/);
    expect(fn.received).toEqual(['job-1', 'job-1', 'job-1']);
  } finally {
    fn.close();
  }
});

test('an onDeadLetter hook that rejects or throws is reported, and its delivery still ends in the journal', async () => {
  const store = new MemoryStore();
  let calls = 0;
  const gateway = createGateway(store, {
    resyncInterval: 0,
    journal: new LocalJournal({ directory: fx.dir }),
    onDeadLetter: (letter) => {
      calls++;
      if (letter.event.id === 'throws') throw new Error('the dead-letter queue is down');
      return Promise.reject(new Error('the dead-letter queue said no'));
    },
  });
  fx.gateways.push(gateway);
  const errors: string[] = [];
  gateway.on('gateway.error', (error) => void errors.push(error.message));
  await refusingFunction(gateway);
  await gateway.ready();
  for (const id of ['throws', 'rejects']) {
    await gateway.emit({ specversion: '1.0', id, source: '/edge', type: 'job.created' });
  }
  await waitUntil(() => errors.length === 2 && gateway.health().journal?.entries === 0);
  expect(calls).toBe(2);
  expect(errors.sort()).toEqual([
    'The onDeadLetter hook failed: the dead-letter queue is down',
    'The onDeadLetter hook failed: the dead-letter queue said no',
  ]);
});
