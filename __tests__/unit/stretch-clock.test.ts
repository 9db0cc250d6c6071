import { StretchClock } from '../../lib/delivery/stretch-clock';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

test('one reading serves a stretch of synchronous work, a fresh one the next stretch', async () => {
  const clock = new StretchClock();
  const first = clock.now();
  busy(2);
  expect(clock.now()).toBe(first);
  await Promise.resolve();
  const next = clock.now();
  expect(next).toBeGreaterThanOrEqual(first + 2);
});

test('a reading serves at most 32 uses, however long the stretch', () => {
  const clock = new StretchClock();
  const first = clock.now();
  for (let i = 1; i < 32; i++) expect(clock.now()).toBe(first);
  busy(1);
  expect(clock.now()).toBeGreaterThanOrEqual(first + 1);
});
