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

test("a traced emit's record keeps the acceptance span's trace context; records without one still read", () => {
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const traced = deliveries(2).map((entry) => ({ ...entry, traceparent, tracestate: 'v=1' }));
  const record = encodeEntries(traced);
  expect(JSON.parse(record)).toMatchObject({ v: 2, p: traceparent, q: 'v=1' });
  expect(decodeEntries(bytes(record))).toEqual({ entries: traced });
  // A list of entries (format 1, as LocalJournal writes them) keeps it too.
  expect(decodeEntries(bytes(JSON.stringify(traced)))).toEqual({ entries: traced });
  // Deliveries of differing traces are not one compact record.
  const mixed = [traced[0], { ...traced[1], traceparent: undefined }];
  expect(JSON.parse(encodeEntries(mixed))).toBeInstanceOf(Array);
  // A record from before tracing (no p, no q) reads as it did, untraced.
  const old = encodeEntries(deliveries(1));
  expect(JSON.parse(old)).not.toHaveProperty('p');
  expect(decodeEntries(bytes(old)).entries[0]).not.toHaveProperty('traceparent');
  // A trace context of the wrong type is left out: the delivery resumes, untraced.
  const hostile = { ...JSON.parse(record), p: { x: 1 }, q: 7 };
  const [entry] = decodeEntries(bytes(JSON.stringify(hostile))).entries;
  expect(entry).not.toHaveProperty('traceparent');
  expect(entry).not.toHaveProperty('tracestate');
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

test('in a group record, an emit that cannot be compact keeps the list format and reads back', () => {
  const a = deliveries(1);
  // Its event does not carry its own delivery ID: it cannot be written compact.
  const odd = deliveries(2).map((e) => ({ ...e, deliveryId: `odd-${e.deliveryId}` }));
  expect(encodeEntries(odd).startsWith('[')).toBe(true);
  const group = encodeGroup([encodeEntries(a), encodeEntries(odd)]);
  expect(decodeEntries(bytes(group))).toEqual({ entries: [...a, ...odd] });
  expect(decodeEntries(bytes(`{"v":3,"g":[${encodeEntries(a)},[]]}`)).damage).toMatch(/index 1/);
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

test('IDs and names in a compact record are written as JSON.stringify writes them, whatever they hold', () => {
  const odd = [
    'plain',
    'a"b',
    'back\\slash',
    'tab\there',
    '\u0000\u001f\u007f',
    '\u2028',
    '😀',
    '\ud800',
    'x\udc00',
    '',
  ];
  for (const text of odd) {
    const [a] = deliveries(1);
    const entry = { ...a, space: text, subscriptionId: text, functionId: text };
    const event: Record<string, unknown> = { ...a.event };
    delete event.deliveryid;
    const fields = { v: 2, s: text, t: a.acceptedAt, d: [[a.deliveryId, text, text, 0]], e: event };
    expect(encodeEntries([entry])).toBe(JSON.stringify(fields));
    expect(decodeEntries(bytes(encodeEntries([entry])))).toEqual({ entries: [entry] });
  }
});
