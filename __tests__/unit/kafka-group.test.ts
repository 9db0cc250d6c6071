import { decodeKafkaRecord, KafkaGroup } from '../../lib/journal/kafka-group';
import { encodeEntries, encodeGroup } from '../../lib/journal/journal-records';
import type { JournalEntry } from '../../lib/journal/journal';

const event = (id: string, deliveryid: string) => ({
  specversion: '1.0',
  id,
  source: '/test',
  type: 'user.created',
  data: { n: 1, text: 'é "quoted"' },
  deliveryid,
});

/** One emit's deliveries, as the gateway records them: the event once per delivery. */
function emit(id: string, subscriptions: string[], at = 1_700_000_000_000): JournalEntry[] {
  return subscriptions.map((subscriptionId, i) => {
    const deliveryId = `${id}-d${i}`;
    return {
      deliveryId,
      space: 'default',
      event: event(id, deliveryId),
      subscriptionId,
      functionId: `fn-${subscriptionId}`,
      attempts: i,
      acceptedAt: at,
    } as unknown as JournalEntry;
  });
}

const bytes = (text: string) => Buffer.from(text, 'utf8');

test('format 4 reads back every delivery of every emit, as recorded', () => {
  const emits = [
    emit('a', ['s1']),
    emit('b', ['s1', 's2', 's3'], 1_700_000_000_005),
    emit('c', ['s2'], 1_699_999_999_990),
    [{ ...emit('d', ['s1'])[0], traceparent: '00-abc-def-01', tracestate: 'k=v' }],
  ];
  const group = new KafkaGroup();
  for (const entries of emits) expect(group.add(entries)).toBe(true);
  const decoded = decodeKafkaRecord(bytes(group.close()));
  expect(decoded.damage).toBeUndefined();
  expect(decoded.entries).toEqual(emits.flat());
});

test('format 4 is about two thirds of format 3 for a small event with one subscription', () => {
  const v4 = new KafkaGroup();
  const v3: string[] = [];
  for (let i = 0; i < 64; i++) {
    const entries = emit(`bench-${i}`, ['YXN5bmMsdXNlci5jcmVhdGVkLGhhbmRsZXIsJTJGLFBPU1Q']);
    v4.add(entries);
    v3.push(encodeEntries(entries));
  }
  const ratio = Buffer.byteLength(v4.close()) / Buffer.byteLength(encodeGroup(v3));
  expect(ratio).toBeLessThan(0.7);
});

test('an emit that format 4 cannot hold goes in as encodeEntries writes it, and reads back', () => {
  const odd = emit('odd', ['s1', 's2']);
  // Its deliveries' events differ in more than their deliveryid.
  (odd[1].event as unknown as Record<string, unknown>).extra = 'x';
  const group = new KafkaGroup();
  group.add(emit('a', ['s1']));
  group.add(odd);
  expect(decodeKafkaRecord(bytes(group.close()))).toEqual({
    entries: [...emit('a', ['s1']), ...odd],
  });
});

test('records of earlier formats still read: a list of entries, format 2, a format 3 group', () => {
  const entries = emit('old', ['s1', 's2']);
  for (const text of [
    JSON.stringify(entries),
    encodeEntries(entries),
    encodeGroup([encodeEntries(entries)]),
  ]) {
    expect(decodeKafkaRecord(bytes(text))).toEqual({ entries });
  }
});

test('a bad emit in a format 4 record is set aside, the others resume; garbage keeps nothing', () => {
  const group = new KafkaGroup();
  group.add(emit('a', ['s1']));
  const text = group.close().replace('"g":[', '"g":[[0,[[7,0]],{}],');
  const decoded = decodeKafkaRecord(bytes(text));
  expect(decoded.entries).toEqual(emit('a', ['s1']));
  expect(decoded.damage).toMatch(/1 of its 2 emits \(at index 0\)/);
  for (const garbage of ['{"v":4', '{"v":4,"t":"x","k":[],"g":[]}', '\xff\xfe']) {
    const read = decodeKafkaRecord(bytes(garbage));
    expect(read.entries).toEqual([]);
    expect(read.damage).toBeDefined();
  }
});

test('add refuses an emit past the byte cap unless the group is empty', () => {
  const group = new KafkaGroup();
  expect(group.add(emit('a', ['s1']), 10)).toBe(true);
  expect(group.add(emit('b', ['s1']), 10)).toBe(false);
  expect(group.size).toBe(1);
});
