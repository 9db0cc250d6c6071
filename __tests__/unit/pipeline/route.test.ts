import type { Catalog } from '../../../lib/cache/catalog';
import type { Delivery } from '../../../lib/delivery/delivery';
import { FilterBudgetError } from '../../../lib/errors';
import { parseCloudEvent } from '../../../lib/events/cloudevent';
import type { FunctionRecord } from '../../../lib/model/function';
import { DEFAULT_RETRY } from '../../../lib/model/retry-options';
import { toSubscriptionRecord, type SubscriptionInput } from '../../../lib/model/subscription';
import { RouteStage } from '../../../lib/pipeline/route';
import { Router } from '../../../lib/router/router';
import { rawEvent } from './stages';

const WHERE = { space: 'default', method: 'POST', path: '/' };

/** A route stage over a router holding `subscriptions` and a catalog holding `functions`. */
function stage(subscriptions: SubscriptionInput[], functions: string[], maxFilterWork = 10_000) {
  const router = new Router();
  router.apply(
    subscriptions.map((input) => {
      const record = toSubscriptionRecord(input, 'default');
      return { resource: 'subscription', space: 'default', id: record.subscriptionId, record };
    }),
  );
  const records = new Map<string, FunctionRecord>(
    functions.map((functionId) => [
      functionId,
      {
        space: 'default',
        functionId,
        type: 'local',
        provider: { timeout: 250 },
        retry: { maxAttempts: 1 },
      },
    ]),
  );
  const catalog = {
    version: 0,
    get: (kind: string, _space: string, id: string) =>
      kind === 'functions' ? records.get(id) : undefined,
  } as unknown as Pick<Catalog, 'get' | 'version'>;
  return new RouteStage({ catalog, router, retry: DEFAULT_RETRY, timeout: 1000, maxFilterWork });
}

const event = (data: unknown) => parseCloudEvent(rawEvent({ data }));

describe('the route stage', () => {
  test('matches by type, then by filter; explain says why a candidate missed', () => {
    const route = stage(
      [
        { eventType: 'user.created', functionId: 'all' },
        {
          eventType: 'user.created',
          functionId: 'big',
          filter: { data: { amount: [{ numeric: ['>', 10] }] } },
        },
        { eventType: 'user.deleted', functionId: 'other' },
      ],
      ['all', 'big'],
    );
    const small = event({ amount: 5 });
    expect(route.match(small, WHERE).map((m) => m.value.functionId)).toEqual(['all']);
    expect(route.match(event({ amount: 50 }), WHERE).map((m) => m.value.functionId)).toEqual([
      'all',
      'big',
    ]);
    const explained = route.explain(small, WHERE);
    expect(explained.subscriptions).toEqual([
      expect.objectContaining({ functionId: 'all', matched: true }),
      expect.objectContaining({ functionId: 'big', matched: false, failed: expect.anything() }),
    ]);
  });

  test('refuses an event whose filters cost more than the budget, before any delivery', () => {
    const route = stage(
      [{ eventType: 'user.created', functionId: 'f', filter: { data: { tags: ['never'] } } }],
      ['f'],
      10,
    );
    const costly = event({ tags: Array.from({ length: 1000 }, (_, i) => `t${i}`) });
    expect(() => route.match(costly, WHERE)).toThrow(FilterBudgetError);
  });

  test("makes a delivery per match, with the function's retry and timeout; unknown functions apart", () => {
    const route = stage(
      [
        { eventType: 'user.created', functionId: 'known' },
        { eventType: 'user.created', functionId: 'gone' },
      ],
      ['known'],
    );
    const e = event(1);
    const tasks: Delivery[] = [];
    const missing = route.deliveries(e, 'default', route.match(e, WHERE), false, false, tasks);
    expect(
      tasks.map((t) => [t.fn.functionId, t.timeout, t.retry.maxAttempts, t.deliveryId]),
    ).toEqual([['known', 250, 1, undefined]]);
    expect(missing?.map((t) => t.fn.functionId)).toEqual(['gone']);
  });

  test('a journaled delivery carries its delivery ID as an extension', () => {
    const route = stage([{ eventType: 'user.created', functionId: 'f' }], ['f']);
    const e = event(1);
    const tasks: Delivery[] = [];
    route.deliveries(e, 'default', route.match(e, WHERE), false, true, tasks);
    expect(tasks[0].deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    expect(tasks[0].event.deliveryid).toBe(tasks[0].deliveryId);
  });

  test('a delivery from the journal keeps its attempts and age', () => {
    const route = stage([], ['f']);
    const task = route.fromJournal({
      deliveryId: 'd1',
      space: 'default',
      event: event(1),
      subscriptionId: 's1',
      functionId: 'f',
      attempts: 3,
      acceptedAt: Date.now() - 5000,
    });
    expect(task).toMatchObject({ deliveryId: 'd1', attempts: 3 });
    expect(performance.now() - task.firstAt).toBeGreaterThanOrEqual(4900);
  });
});
