import { Delivery } from '../../../lib/delivery/delivery';
import { Dispatcher, type DispatcherHooks } from '../../../lib/delivery/dispatcher';
import {
  BackpressureError,
  GatewayClosedError,
  JournalUnavailableError,
} from '../../../lib/errors';
import { parseCloudEvent } from '../../../lib/events/cloudevent';
import type { Journal, JournalEntry } from '../../../lib/journal/journal';
import { DEFAULT_RETRY } from '../../../lib/model/retry-options';
import { recordDeliveries } from '../../../lib/pipeline/record';
import { rawEvent } from './stages';

const made: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((d) => d.close(0)));
});

/** A dispatcher whose deliveries never end (its provider never answers): only its room is observed. */
function dispatcher(queueSize: number): Dispatcher {
  const fn = { space: 'default', functionId: 'f', type: 'local', provider: {} } as const;
  const hooks = {
    provider: () => ({ invoke: () => new Promise(() => undefined) }),
    localHandler: () => undefined,
    currentFunction: () => fn,
    invoking: () => undefined,
    succeeded: () => undefined,
    attemptFailed: () => undefined,
    deadLettered: () => undefined,
  } satisfies DispatcherHooks;
  const d = new Dispatcher({ queueSize, concurrency: 1, functionConcurrency: 1 }, hooks);
  made.push(d);
  return d;
}

function tasks(count: number): Delivery[] {
  return Array.from({ length: count }, (_, i) => {
    const task = new Delivery({
      space: 'default',
      event: parseCloudEvent(rawEvent()),
      subscription: { space: 'default', subscriptionId: `s${i}`, functionId: 'f' } as never,
      fn: { space: 'default', functionId: 'f', type: 'local', provider: {} },
      retry: DEFAULT_RETRY,
      timeout: 1000,
      system: false,
    });
    task.deliveryId = `d${i}`;
    return task;
  });
}

function journal(
  record: (entries: readonly JournalEntry[]) => Promise<void>,
  shared = false,
): Journal {
  return {
    shared,
    open: async () => undefined,
    record,
    attempted: () => undefined,
    finished: () => undefined,
    size: () => ({ entries: 0 }),
    close: async () => undefined,
  };
}

describe('the record stage', () => {
  test('records every delivery durably, then accepts them', async () => {
    const recorded: JournalEntry[] = [];
    const d = dispatcher(10);
    await recordDeliveries(
      journal(async (e) => void recorded.push(...e)),
      d,
      tasks(2),
      Promise.resolve(),
    );
    expect(recorded.map((e) => [e.deliveryId, e.subscriptionId, e.attempts])).toEqual([
      ['d0', 's0', 0],
      ['d1', 's1', 0],
    ]);
    expect(d.pending).toBe(2);
  });

  test('a journal failure accepts nothing and gives the room back', async () => {
    const d = dispatcher(2);
    const failing = journal(() => Promise.reject(new Error('disk full')));
    await expect(recordDeliveries(failing, d, tasks(2), Promise.resolve())).rejects.toThrow(
      JournalUnavailableError,
    );
    expect(d.pending).toBe(0);
    // The room is back: the same deliveries fit.
    await recordDeliveries(
      journal(async () => undefined),
      d,
      tasks(2),
      Promise.resolve(),
    );
    expect(d.pending).toBe(2);
  });

  test('no room: refused before the journal hears of it', async () => {
    let calls = 0;
    const counting = journal(async () => void calls++);
    await expect(
      recordDeliveries(counting, dispatcher(1), tasks(3), Promise.resolve()),
    ).rejects.toThrow(BackpressureError);
    expect(calls).toBe(0);
  });

  test('a shared journal takes no room here, and nothing once the gateway closes', async () => {
    const d = dispatcher(1);
    const shared = journal(async () => undefined, true);
    await recordDeliveries(shared, d, tasks(3), Promise.resolve());
    expect(d.pending).toBe(0);
    await d.close(0);
    await expect(recordDeliveries(shared, d, tasks(1), Promise.resolve())).rejects.toThrow(
      GatewayClosedError,
    );
  });

  test('waits for the journal to open before recording', async () => {
    const order: string[] = [];
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve)).then(
      () => void order.push('opened'),
    );
    const recording = recordDeliveries(
      journal(async () => void order.push('recorded')),
      dispatcher(5),
      tasks(1),
      opened,
    );
    await Promise.resolve();
    expect(order).toEqual([]);
    open();
    await recording;
    expect(order).toEqual(['opened', 'recorded']);
  });
});
