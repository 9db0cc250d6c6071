import { createGateway, MemoryStore, type ArchiveSource } from '../../lib';
import { isRfc3339 } from '../../lib/events/cloudevent';
import { parseIsoTime } from '../../lib/model/iso-time';

// The one reader of user-given ISO times: a date the calendar does not have is refused, never
// moved to the next day as Date.parse moves it (February 30 to March 2, 24:00 to the next day).

test('real instants are read exactly, whatever the offset, fraction or century', () => {
  for (const text of [
    '2026-12-05T10:00:00Z',
    '2026-12-05T10:00:00.123Z',
    '2028-02-29T23:59:59.999Z',
    '2000-02-29T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '0099-03-01T00:00:00Z', // not 1999: Date.UTC's two-digit years
  ]) {
    expect(new Date(parseIsoTime(text)!).toISOString()).toBe(text.replace(/(:\d\d)Z$/, '$1.000Z'));
  }
  expect(parseIsoTime('2026-12-05T12:30:00+02:30')).toBe(Date.parse('2026-12-05T10:00:00Z'));
  expect(parseIsoTime('2026-12-05T07:00-03:00')).toBe(Date.parse('2026-12-05T10:00:00Z'));
  expect(parseIsoTime('2026-12-05t10:00:00.123456789z')).toBe(
    Date.parse('2026-12-05T10:00:00.123Z'),
  );
});

test('impossible dates, hours, minutes, seconds and offsets are refused', () => {
  for (const text of [
    '2026-02-29T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-06-31T00:00:00Z',
    '2026-09-31T00:00:00Z',
    '2026-11-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2026-01-01T23:59:60Z',
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00:00-05:60',
    '2026-01-01T00:00:00', // no offset: another instant on each host
    '2026-01-01',
    'Dec 5 2026 10:00 GMT',
    ' 2026-01-01T00:00:00Z',
    '2026-01-01T00:00:00Z\n',
  ]) {
    expect([text, parseIsoTime(text)]).toEqual([text, undefined]);
  }
  expect(parseIsoTime(Date.now())).toBeUndefined();
});

test("CloudEvents' time keeps RFC 3339's rule: seconds required, a leap second allowed", () => {
  expect(isRfc3339('2016-12-31T23:59:60Z')).toBe(true);
  expect(isRfc3339('2026-12-05T10:00Z')).toBe(false);
  expect(isRfc3339('2026-02-30T00:00:00Z')).toBe(false);
  expect(parseIsoTime('2016-12-31T23:59:60Z', { leapSecond: true })).toBe(
    Date.parse('2017-01-01T00:00:00Z'),
  );
});

test('gateway.replay refuses an impossible date too, typed, before reading anything', async () => {
  const gateway = createGateway(new MemoryStore(), { resyncInterval: 0 });
  let reads = 0;
  const source: ArchiveSource = {
    name: 'counting',
    // eslint-disable-next-line require-yield
    async *read() {
      reads++;
    },
  };
  try {
    for (const from of ['2026-02-30T00:00:00Z', '2026-03-01T24:00:00Z']) {
      await expect(gateway.replay({ source, from, to: Date.now() })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    }
    await expect(
      gateway.replay({ source, from: '2026-02-28T00:00:00Z', to: '2026-03-01T00:00:00Z' }),
    ).resolves.toMatchObject({ read: 0 });
    expect(reads).toBe(1);
  } finally {
    await gateway.close();
  }
});
