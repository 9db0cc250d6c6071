import type { ConfigChange } from '../../lib/cache/catalog';
import type { SubscriptionRecord } from '../../lib/model/subscription';
import { hashOf, PatternCache } from '../../lib/router/pattern-cache';
import { Router } from '../../lib/router/router';

const FILTER = { source: [{ prefix: '/shop/' }], data: { country: ['FR', 'DE'] } };

function sub(id: string, filter?: unknown): SubscriptionRecord {
  return Object.freeze({
    space: 'default',
    subscriptionId: id,
    type: 'async',
    eventType: 'order.placed',
    functionId: 'fn',
    path: '/',
    method: 'POST',
    ...(filter === undefined ? {} : { filter }),
  }) as SubscriptionRecord;
}

const put = (record: SubscriptionRecord, prev?: SubscriptionRecord): ConfigChange => ({
  resource: 'subscription',
  space: record.space,
  id: record.subscriptionId,
  record,
  prev,
});
const del = (prev: SubscriptionRecord): ConfigChange => ({
  resource: 'subscription',
  space: prev.space,
  id: prev.subscriptionId,
  prev,
});

describe('compiled filters are shared between equal filters', () => {
  test('subscriptions with equal filters (equal JSON, separate objects) share one pattern', () => {
    const router = new Router();
    const a = sub('a', JSON.parse(JSON.stringify(FILTER)));
    const b = sub('b', JSON.parse(JSON.stringify(FILTER)));
    const c = sub('c', { data: { country: ['DE', 'FR'] } });
    router.apply([put(a), put(b), put(c)]);
    expect(router.filterOf(a)).toBeDefined();
    expect(router.filterOf(a)).toBe(router.filterOf(b));
    expect(router.filterOf(c)).not.toBe(router.filterOf(a));
    const event = { source: '/shop/eu', data: { country: 'FR' } };
    expect(router.filterOf(b)?.matches(event)).toBe(true);
  });

  test('field order is part of the key: it is the order fields are tested and explained', () => {
    const cache = new PatternCache();
    const ab = cache.acquire({ x: ['1'], y: ['2'] });
    const ba = cache.acquire({ y: ['2'], x: ['1'] });
    expect(ab).not.toBe(ba);
    expect(ab.explain({})).toEqual({ field: 'x', operator: 'exact' });
    expect(ba.explain({})).toEqual({ field: 'y', operator: 'exact' });
  });

  test('the last subscription to let go of a pattern frees it; updates and deletes count', () => {
    const cache = new PatternCache();
    const first = cache.acquire(FILTER);
    expect(cache.acquire(JSON.parse(JSON.stringify(FILTER)))).toBe(first);
    expect(cache.size).toBe(1);
    cache.release(FILTER);
    expect(cache.size).toBe(1);
    cache.release(FILTER);
    expect(cache.size).toBe(0);
    // Freed: a later acquire compiles anew.
    expect(cache.acquire(FILTER)).not.toBe(first);

    const router = new Router();
    const patterns = (router as unknown as { patterns: PatternCache }).patterns;
    const subs = Array.from({ length: 100 }, (_, i) => sub(`s${i}`, { n: [i % 10] }));
    router.apply(subs.map((s) => put(s)));
    expect(patterns.size).toBe(10);
    // Each moved to a filter of its own, then deleted: nothing is left behind.
    const moved = subs.map((s, i) => sub(s.subscriptionId, { n: [1000 + i] }));
    router.apply(moved.map((s, i) => put(s, subs[i])));
    expect(patterns.size).toBe(100);
    router.apply(moved.map((s) => del(s)));
    expect(patterns.size).toBe(0);
    expect(router.size).toBe(0);
  });

  test('filters whose JSON hashes alike stay apart, and are freed apart', () => {
    // Two different filters with the same 32-bit hash (found by a search over `v${i}`).
    const a = { x: ['v115763'] };
    const b = { x: ['v1190200'] };
    expect(hashOf(JSON.stringify(a))).toBe(hashOf(JSON.stringify(b)));
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const cache = new PatternCache();
      const pa = cache.acquire(a);
      const pb = cache.acquire(b);
      expect(pa).not.toBe(pb);
      expect(cache.acquire(JSON.parse(JSON.stringify(b)))).toBe(pb);
      expect(pa.matches({ x: 'v115763' })).toBe(true);
      expect(pb.matches({ x: 'v115763' })).toBe(false);
      cache.release(order[0]);
      cache.release(order[1]);
      expect(cache.size).toBe(1);
      cache.release(b);
      expect(cache.size).toBe(0);
    }
  });

  test('a stored filter this version cannot read matches nothing, and is explained', () => {
    const router = new Router();
    const odd = sub('odd', { x: [{ regex: '.*' }] });
    router.apply([put(odd)]);
    expect(router.filterOf(odd)?.matches({ x: 'y' })).toBe(false);
    expect(router.filterOf(odd)?.explain({ x: 'y' })).toEqual({
      field: '$filter',
      operator: 'invalid',
    });
  });
});
