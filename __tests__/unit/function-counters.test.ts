import { FunctionCounters, OTHER_FUNCTIONS } from '../../lib/metrics/function-counters';

test('counts per function; past the limit a space names a few of its own, the rest share its (other) entry', () => {
  const counters = new FunctionCounters(2, 1);
  counters.of('a', 'f1').succeeded++;
  counters.of('a', 'f1').succeeded++;
  counters.of('a', 'f2').retried++;
  // The limit is reached by space a: b still names one function of its own.
  counters.of('b', 'f1').retried++;
  counters.of('b', 'f2').deadLettered++;
  counters.of('a', 'f3').succeeded++;
  expect(counters.snapshot()).toEqual([
    { space: 'a', functionId: 'f1', succeeded: 2, retried: 0, deadLettered: 0 },
    { space: 'a', functionId: 'f2', succeeded: 0, retried: 1, deadLettered: 0 },
    { space: 'b', functionId: 'f1', succeeded: 0, retried: 1, deadLettered: 0 },
    { space: 'b', functionId: OTHER_FUNCTIONS, succeeded: 0, retried: 0, deadLettered: 1 },
    { space: 'a', functionId: OTHER_FUNCTIONS, succeeded: 1, retried: 0, deadLettered: 0 },
  ]);
  // The same counts object every time: no allocation per delivery.
  expect(counters.of('a', 'f1')).toBe(counters.of('a', 'f1'));
  expect(counters.of('b', 'f9')).toBe(counters.of('b', 'f2'));
});

test("one space's many functions do not take every other space's names", () => {
  const counters = new FunctionCounters(1000, 50);
  for (let i = 0; i < 5000; i++) counters.of('tenant', `churn-${i}`).succeeded++;
  for (let i = 0; i < 10; i++) counters.of('victim', `f${i}`).succeeded++;
  const snapshot = counters.snapshot();
  const victim = snapshot.filter((m) => m.space === 'victim').map((m) => m.functionId);
  expect(victim).toEqual(Array.from({ length: 10 }, (_, i) => `f${i}`));
  // Bounded: the first 1,000 names, the victim's 10, and the tenant's (other).
  expect(snapshot).toHaveLength(1011);
  expect(snapshot.find((m) => m.space === 'tenant' && m.functionId === OTHER_FUNCTIONS)).toEqual(
    expect.objectContaining({ succeeded: 4000 }),
  );
});

test('the names and (other) entries stay bounded however many spaces', () => {
  const counters = new FunctionCounters(10, 2);
  for (let s = 0; s < 100; s++) for (let f = 0; f < 5; f++) counters.of(`s${s}`, `f${f}`);
  const snapshot = counters.snapshot();
  const named = snapshot.filter((m) => m.functionId !== OTHER_FUNCTIONS);
  expect(named.length).toBeLessThanOrEqual(20);
  expect(snapshot.length).toBeLessThanOrEqual(20 + 10 + 1);
  expect(snapshot.at(-1)).toEqual(
    expect.objectContaining({ space: OTHER_FUNCTIONS, functionId: OTHER_FUNCTIONS }),
  );
});
