import { FunctionCounters, OTHER_FUNCTIONS } from '../../lib/metrics/function-counters';

test('counts per function, and past the limit every other function shares one (other) entry', () => {
  const counters = new FunctionCounters(2);
  counters.of('a', 'f1').succeeded++;
  counters.of('a', 'f1').succeeded++;
  counters.of('b', 'f1').retried++;
  counters.of('b', 'f2').deadLettered++;
  counters.of('c', 'f3').succeeded++;
  expect(counters.snapshot()).toEqual([
    { space: 'a', functionId: 'f1', succeeded: 2, retried: 0, deadLettered: 0 },
    { space: 'b', functionId: 'f1', succeeded: 0, retried: 1, deadLettered: 0 },
    {
      space: OTHER_FUNCTIONS,
      functionId: OTHER_FUNCTIONS,
      succeeded: 1,
      retried: 0,
      deadLettered: 1,
    },
  ]);
  // The same counts object every time: no allocation per delivery.
  expect(counters.of('a', 'f1')).toBe(counters.of('a', 'f1'));
});
