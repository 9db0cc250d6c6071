import { formatTraceparent, parseTraceparent, tracestateOf } from '../../lib/tracing/traceparent';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('a valid traceparent reads, and formats back the same', () => {
  const value = `00-${TRACE}-${SPAN}-01`;
  expect(parseTraceparent(value)).toEqual({ traceId: TRACE, spanId: SPAN, traceFlags: 1 });
  expect(formatTraceparent(parseTraceparent(value)!)).toBe(value);
  // A later version may add fields: its first four are read.
  expect(parseTraceparent(`01-${TRACE}-${SPAN}-00-more`)).toMatchObject({ traceFlags: 0 });
});

test('anything else is not a traceparent (a new trace starts), never an exception', () => {
  for (const bad of [
    undefined,
    7,
    {},
    '',
    `00-${TRACE}-${SPAN}`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`,
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `ff-${TRACE}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-01-extra`,
    `00-${TRACE}-${SPAN}-01`.padEnd(10_000, 'x'),
  ]) {
    expect(parseTraceparent(bad)).toBeUndefined();
  }
});

test('tracestate: header lines joined, anything too long or not text left out', () => {
  expect(tracestateOf({ tracestate: 'a=1' })).toBe('a=1');
  expect(tracestateOf({ tracestate: ['a=1', 'b=2'] })).toBe('a=1,b=2');
  expect(tracestateOf({ tracestate: 'a='.padEnd(600, 'x') })).toBeUndefined();
  expect(tracestateOf({ tracestate: [1, 2] })).toBeUndefined();
  expect(tracestateOf({})).toBeUndefined();
});
