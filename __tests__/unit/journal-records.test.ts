import type { JournalEntry } from '../../lib/journal/journal';
import { decodeEntries, encodeEntries, encodeGroup } from '../../lib/journal/journal-records';

const bytes = (text: string) => new TextEncoder().encode(text);

/** One emit's deliveries, as the gateway records them: the event with each one's delivery ID. */
function deliveries(count: number): JournalEntry[] {
  const event = {
    specversion: '1.0' as const,
    id: 'e1',
    source: '/t',
    type: 'user.created',
    data: { n: 1 },
  };
  return Array.from({ length: count }, (_, i) => {
    const deliveryId = `0e9a3b1c-1111-4222-8333-94444555566${i}`;
    return {
      deliveryId,
      space: 'default',
      event: { ...event, deliveryid: deliveryId },
      subscriptionId: `sub-${i}-0e9a3b1c-1111-4222-8333-944445555666`,
      functionId: `fn-${i}`,
      attempts: 0,
      acceptedAt: 1_790_000_000_000,
    };
  });
}

test("one emit's deliveries make a compact record that reads back as the same entries", () => {
  for (const count of [1, 3]) {
    const entries = deliveries(count);
    const record = encodeEntries(entries);
    expect(JSON.parse(record)).toMatchObject({ v: 2 });
    // The event once, not a copy per delivery with the entry's field names.
    expect(record.length).toBeLessThan(0.7 * JSON.stringify(entries).length);
    expect(decodeEntries(bytes(record))).toEqual({ entries });
  }
});

test('deliveries of different events or times keep the list format, and both formats read', () => {
  const [a] = deliveries(1);
  const b = { ...a, deliveryId: 'other', event: { ...a.event, id: 'e2', deliveryid: 'other' } };
  const mixed = [a, b];
  expect(encodeEntries(mixed)).toBe(JSON.stringify(mixed));
  expect(encodeEntries([a, { ...a, acceptedAt: 1 }])).toBe(
    JSON.stringify([a, { ...a, acceptedAt: 1 }]),
  );
  // A record of an earlier version (format 1) reads as it did.
  expect(decodeEntries(bytes(JSON.stringify(mixed)))).toEqual({ entries: mixed });
});

test('a compact record of the wrong shape keeps nothing and says so', () => {
  const good = JSON.parse(encodeEntries(deliveries(1)));
  for (const bad of [
    { ...good, d: [['id', 'sub', 'fn']] },
    { ...good, d: 'x' },
    { ...good, e: null },
    { ...good, t: '1' },
  ]) {
    expect(decodeEntries(bytes(JSON.stringify(bad)))).toEqual({
      entries: [],
      damage: 'it is not a record of deliveries',
    });
  }
});

test('a compact record is exactly the JSON of its fields: written out by hand, it stays valid', () => {
  for (const count of [1, 2, 5]) {
    const entries = deliveries(count).map((e, i) => ({
      ...e,
      // Text JSON must escape, and attempt counts carried over from a restart.
      subscriptionId: `sub "${i}"\n\u2028`,
      attempts: i,
    }));
    const event: Record<string, unknown> = { ...entries[0].event };
    delete event.deliveryid;
    const fields = {
      v: 2,
      s: 'default',
      t: 1_790_000_000_000,
      d: entries.map((e) => [e.deliveryId, e.subscriptionId, e.functionId, e.attempts]),
      e: event,
    };
    expect(encodeEntries(entries)).toBe(JSON.stringify(fields));
    expect(decodeEntries(bytes(encodeEntries(entries)))).toEqual({ entries });
  }
  // An event whose deliveryid is not the entry's own is written as a list, as before.
  const [a] = deliveries(1);
  const stray = { ...a, event: { ...a.event, deliveryid: 'another' } };
  expect(encodeEntries([stray])).toBe(JSON.stringify([stray]));
});

test("several emits' compact records make one group record that reads back as all their entries", () => {
  const a = deliveries(2);
  const b = deliveries(1).map((e) => ({
    ...e,
    deliveryId: 'b',
    event: { ...e.event, id: 'e2', deliveryid: 'b' },
  }));
  const group = encodeGroup([encodeEntries(a), encodeEntries(b)]);
  expect(decodeEntries(bytes(group))).toEqual({ entries: [...a, ...b] });
});

test('in a group record, an emit that cannot be read is reported and the others resume', () => {
  const a = deliveries(1);
  const group = `{"v":3,"g":[${encodeEntries(a)},{"v":2,"s":1},"x"]}`;
  expect(decodeEntries(bytes(group))).toEqual({
    entries: a,
    damage: '2 of its 3 emits (at index 1, 2) are not deliveries; the other 1 resume',
  });
  for (const bad of ['{"v":3,"g":{}}', '{"v":3,"g":[1]}']) {
    expect(decodeEntries(bytes(bad)).entries).toEqual([]);
    expect(decodeEntries(bytes(bad)).damage).toMatch(/not (a record of|a list of) deliveries/);
  }
});
