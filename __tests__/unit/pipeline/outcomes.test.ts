import { Delivery } from '../../../lib/delivery/delivery';
import { InvocationError } from '../../../lib/errors';
import { parseCloudEvent } from '../../../lib/events/cloudevent';
import { DEFAULT_RETRY } from '../../../lib/model/retry-options';
import type { DeadLetter } from '../../../lib/plugins/dead-letter';
import { outcomesFor, rawEvent } from './stages';

const event = parseCloudEvent(rawEvent());

function task(system = false): Delivery {
  return new Delivery({
    space: 'default',
    event,
    subscription: { space: 'default', subscriptionId: 's1', functionId: 'f' } as never,
    fn: { space: 'default', functionId: 'f', type: 'local', provider: {} },
    retry: DEFAULT_RETRY,
    timeout: 1000,
    system,
  });
}

const letter: DeadLetter = {
  space: 'default',
  event,
  subscriptionId: 's1',
  functionId: 'f',
  reason: 'it failed',
  attempts: 3,
  error: new InvocationError('boom', { retryable: false }),
};

const gauges = { queueDepth: 0, deliveriesPending: 0, plugins: [] };

describe('the outcome stage', () => {
  test('an accepted event: counted, event.received, and the plugins hear it with its way in', () => {
    const heardByPlugin: unknown[] = [];
    const { outcomes, heard } = outcomesFor([
      { name: 'p', accepted: (e, context) => void heardByPlugin.push([e.id, context]) },
    ]);
    outcomes.accepted(event, 2, { space: 'default', method: 'POST', path: '/' }, 'batch');
    expect(outcomes.metrics.snapshot(gauges)).toMatchObject({
      eventsReceived: 1,
      deliveriesAccepted: 2,
    });
    expect(heard.events.map(([name]) => name)).toEqual(['event.received']);
    expect(heardByPlugin).toEqual([
      ['e1', { space: 'default', method: 'POST', path: '/', via: 'batch', deliveries: 2 }],
    ]);
  });

  test('a system event is counted, and raises nothing and tells no plugin', () => {
    const heardByPlugin: unknown[] = [];
    const { outcomes, heard } = outcomesFor([
      { name: 'p', accepted: () => void heardByPlugin.push(1) },
    ]);
    outcomes.accepted(event, 1, { space: 'default', method: 'POST', path: '/' }, undefined);
    expect(heard.events).toEqual([]);
    expect(heardByPlugin).toEqual([]);
  });

  test('a dead letter: counted, the hook, function.invocationFailed and the plugins', async () => {
    const hooked: DeadLetter[] = [];
    const pluginLetters: DeadLetter[] = [];
    const { outcomes, heard } = outcomesFor(
      [{ name: 'p', deadLettered: (l) => void pluginLetters.push(l) }],
      (l) => void hooked.push(l),
    );
    outcomes.deadLettered(letter, task(), false);
    expect(hooked).toEqual([letter]);
    expect(pluginLetters).toEqual([letter]);
    expect(heard.events).toEqual([
      [
        'function.invocationFailed',
        expect.objectContaining({ functionId: 'f', reason: 'it failed' }),
      ],
    ]);
    expect(outcomes.metrics.snapshot(gauges)).toMatchObject({ deliveriesDeadLettered: 1 });
  });

  test('a dead-letter hook that throws or rejects is reported, never thrown', async () => {
    const { outcomes, heard } = outcomesFor([], () => {
      throw new Error('hook broke');
    });
    expect(() => outcomes.deadLettered(letter, task(true), false)).not.toThrow();
    const rejecting = outcomesFor([], () => Promise.reject(new Error('hook rejected')));
    rejecting.outcomes.deadLettered(letter, task(true), false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard.errors.map((e) => e.message)).toEqual([
      'The onDeadLetter hook failed: hook broke',
    ]);
    expect(rejecting.heard.errors.map((e) => e.message)).toEqual([
      'The onDeadLetter hook failed: hook rejected',
    ]);
    // A system event's dead letter raises no further system event.
    expect(heard.events).toEqual([]);
  });

  test('retries are counted only when another attempt follows', () => {
    const { outcomes } = outcomesFor();
    const error = new InvocationError('boom', { retryable: true });
    outcomes.attemptFailed(task(), error, 1, 10);
    outcomes.attemptFailed(task(), error, 2, undefined);
    expect(outcomes.metrics.snapshot(gauges)).toMatchObject({ deliveriesRetried: 1 });
  });
});
