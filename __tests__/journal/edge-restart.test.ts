// Kills at the journal's awkward moments, with real gateway processes and a real http function:
// during close(), during the startup replay itself, and a close() whose drain runs out while an
// attempt is in flight. What was accepted is delivered in the end; nothing is resumed for ever.
import { waitUntil } from '../../lib/testing';
import { edgeChildren, edgeFunction } from './edge-helpers';

jest.setTimeout(60_000);

const { start } = edgeChildren('eg-edge-restart-');

const RETRY = { maxAttempts: 1000, initialDelay: 5, maxDelay: 20, maxAge: 600_000 };
const IDS = Array.from({ length: 20 }, (_, i) => `job-${i}`);

/** A function that holds every request while `hold` is set, and answers 200 once it is not. */
async function switchable() {
  const state = { hold: true };
  const fn = await edgeFunction(() => (state.hold ? 'hold' : 200));
  return { fn, state };
}

test('killed during close(), while it drains: the next start delivers what was left', async () => {
  const { fn, state } = await switchable();
  try {
    const first = await start({ url: fn.url, retry: RETRY, drainTimeout: 10_000 });
    await first.emit(IDS);
    await waitUntil(() => fn.received.length >= IDS.length);
    first.process.send({ close: true });
    await new Promise((r) => setTimeout(r, 200)); // draining: every attempt still held
    await first.kill();
    expect(first.said('closed')).toEqual([]);

    state.hold = false;
    const second = await start({ url: fn.url, retry: RETRY });
    await waitUntil(() => IDS.every((id) => fn.received.filter((r) => r === id).length >= 2));
    await second.untilJournalEmpty();
    expect(second.said('deadLettered')).toEqual([]);
  } finally {
    fn.close();
  }
});

test('killed again and again during the startup replay: every delivery is made in the end, none resumed for ever', async () => {
  const { fn, state } = await switchable();
  try {
    const first = await start({ url: fn.url, retry: RETRY });
    await first.emit(IDS);
    await waitUntil(() => fn.received.length >= IDS.length);
    await first.kill();

    // Each life replays the journal and is killed while the replayed attempts are in flight or
    // just answered (their finished marks maybe not yet written).
    state.hold = false;
    for (const after of [0, 3, 15, 40]) {
      const child = await start({ url: fn.url, retry: RETRY });
      await new Promise((r) => setTimeout(r, after));
      await child.kill();
      expect(child.said('deadLettered')).toEqual([]);
    }
    const last = await start({ url: fn.url, retry: RETRY });
    const delivered = () => IDS.filter((id) => fn.received.filter((r) => r === id).length >= 2);
    await waitUntil(() => delivered().length === IDS.length);
    // Nothing more comes once all ended: the journal is empty.
    await last.untilJournalEmpty();
    const count = fn.received.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(fn.received.length).toBe(count);
    expect(last.said('deadLettered')).toEqual([]);
  } finally {
    fn.close();
  }
});

test("close()'s drain runs out during an attempt: reported undelivered, kept in the journal, delivered by the next start", async () => {
  const { fn, state } = await switchable();
  try {
    const first = await start({ url: fn.url, retry: RETRY, drainTimeout: 100, timeout: 30_000 });
    await first.emit(['job-1']);
    await waitUntil(() => fn.received.length === 1);
    first.process.send({ close: true });
    const { closed } = await first.until((m) => m.closed !== undefined, 'closed');
    expect(closed).toEqual(['job-1']);
    expect(first.said('deadLettered')).toEqual([]); // not dead-lettered: it stays for a restart
    await first.kill(); // closed: only its IPC channel keeps it alive

    state.hold = false;
    const second = await start({ url: fn.url, retry: RETRY });
    await waitUntil(() => fn.received.length === 2);
    expect(second.said('deadLettered')).toEqual([]);
  } finally {
    fn.close();
  }
});
