import { Catalog } from '../../lib/cache/catalog';
import { KeyLayout } from '../../lib/model/key-layout';
import type { SubscriptionRecord } from '../../lib/model/subscription';
import { PatternCache } from '../../lib/router/pattern-cache';

// What a filtered subscription holds: its filter once (equal parts shared between subscriptions),
// and compiled patterns of the same structure sharing their shape.

const layout = new KeyLayout('/test');

function subscription(id: string, filter: unknown): string {
  return JSON.stringify({
    space: 'default',
    subscriptionId: id,
    type: 'async',
    eventType: 'order.placed',
    functionId: 'fn',
    path: '/',
    method: 'POST',
    filter,
  });
}

function filterOf(i: number): unknown {
  return {
    source: [{ prefix: '/shop/' }],
    subject: [{ 'anything-but': `order-${i}` }],
    data: { amount: [{ numeric: ['>=', 100, '<', 1000] }], country: ['FR', 'DE'] },
  };
}

describe('a subscription filter is held once', () => {
  test('subscriptions decoded by the catalog share the equal parts of their filters', () => {
    const catalog = new Catalog(layout);
    const put = (id: string, value: string) => ({
      key: layout.key('subscriptions', 'default', id),
      prev: undefined,
      kv: {
        key: layout.key('subscriptions', 'default', id),
        value,
        createRevision: 2,
        modRevision: 2,
      },
    });
    const { applied, invalid } = catalog.apply([
      put('a', subscription('a', filterOf(1))),
      put('b', subscription('b', filterOf(2))),
    ]);
    expect(invalid).toEqual([]);
    expect(applied).toHaveLength(2);
    const a = catalog.get('subscriptions', 'default', 'a') as SubscriptionRecord;
    const b = catalog.get('subscriptions', 'default', 'b') as SubscriptionRecord;
    const fa = a.filter as Record<string, unknown>;
    const fb = b.filter as Record<string, unknown>;
    // The same value as stored, each its own where they differ, one object where they are equal.
    expect(fa).toEqual(filterOf(1));
    expect(fb).toEqual(filterOf(2));
    expect(fa.subject).not.toBe(fb.subject);
    expect(fa.source).toBe(fb.source);
    const [da, db] = [fa.data, fb.data] as Record<string, unknown>[];
    expect(da.amount).toBe(db.amount);
    expect(da.country).toBe(db.country);
    expect(Object.isFrozen(fa) && Object.isFrozen(fa.source) && Object.isFrozen(fa.data)).toBe(
      true,
    );
    expect(JSON.parse(catalog.snapshot()[layout.key('subscriptions', 'default', 'a')])).toEqual(
      JSON.parse(subscription('a', filterOf(1))),
    );
  });

  test('filters of the same structure share one shape, freed with the last of them', () => {
    const cache = new PatternCache();
    const shapes = (cache as unknown as { shapes: Map<string, unknown> }).shapes;
    const shapeOf = (p: unknown) => (p as { shape: unknown }).shape;
    const filters = Array.from({ length: 50 }, (_, i) => filterOf(i));
    const programs = filters.map((f) => cache.acquire(f));
    expect(new Set(programs).size).toBe(50);
    expect(new Set(programs.map(shapeOf)).size).toBe(1);
    expect(shapes.size).toBe(1);
    // Each still tests its own values.
    const event = { source: '/shop/eu', subject: 'order-3', data: { amount: 120, country: 'FR' } };
    expect(programs.map((p) => p.matches(event)).filter((m) => !m)).toHaveLength(1);
    expect(programs[3].matches(event)).toBe(false);
    for (const f of filters) cache.release(f);
    expect(cache.size).toBe(0);
    expect(shapes.size).toBe(0);
  });

  test('filters acquired and released for ever leave the table no larger than those held', () => {
    const cache = new PatternCache();
    const slots = () => (cache as unknown as { slots: unknown[] }).slots.length;
    const kept = Array.from({ length: 100 }, (_, i) => ({ kept: [i] }));
    for (const f of kept) cache.acquire(f);
    const held = slots();
    for (let i = 0; i < 20_000; i++) {
      const f = { churn: [i] };
      expect(cache.acquire(f).matches({ churn: i })).toBe(true);
      cache.release(f);
    }
    expect(cache.size).toBe(100);
    expect(slots()).toBeLessThanOrEqual(held * 2);
    for (const [i, f] of kept.entries()) expect(cache.acquire(f).matches({ kept: i })).toBe(true);
  });
});
