import { RewatchPacer } from '../../lib/model/rewatch-pacer';

const STEADY = { initialDelay: 25, maxDelay: 1000, jitter: false };

afterEach(() => jest.useRealTimers());

test('quick ends without a change back off, doubling to maxDelay; wait() repeats the last', () => {
  const pacer = new RewatchPacer(STEADY);
  expect(pacer.wait()).toBe(0);
  const delays = Array.from({ length: 8 }, () => pacer.ended(Date.now(), false));
  expect(delays).toEqual([25, 50, 100, 200, 400, 800, 1000, 1000]);
  expect(pacer.wait()).toBe(1000);
  expect(pacer.inARow).toBe(8);
});

test('an end after a change, or after staying up maxDelay, resets: at once, count 0', () => {
  jest.useFakeTimers({ now: 10_000 });
  const pacer = new RewatchPacer(STEADY);
  pacer.ended(Date.now(), false);
  pacer.ended(Date.now(), false);
  expect(pacer.ended(Date.now(), true)).toBe(0);
  expect(pacer.inARow).toBe(0);
  expect(pacer.wait()).toBe(0);
  pacer.ended(Date.now(), false);
  // Up just under maxDelay: still quick; up maxDelay: it was working.
  expect(pacer.ended(Date.now() - 999, false)).toBe(50);
  expect(pacer.ended(Date.now() - 1000, false)).toBe(0);
  expect(pacer.ended(Date.now(), false)).toBe(25);
  pacer.reset();
  expect([pacer.inARow, pacer.wait()]).toEqual([0, 0]);
});

test('with full jitter each wait is a whole ms in [0, cap)', () => {
  const pacer = new RewatchPacer({ initialDelay: 100, maxDelay: 400 });
  const caps = [100, 200, 400, 400, 400];
  for (let round = 0; round < 50; round++) {
    pacer.reset();
    for (const cap of caps) {
      const delay = pacer.ended(Date.now(), false);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(cap);
      expect(pacer.wait()).toBe(delay);
    }
  }
});

test('a watch that stays up provenAfter ms resets the pacer and says so; a cancel stops that', () => {
  jest.useFakeTimers();
  const pacer = new RewatchPacer(STEADY);
  expect(pacer.provenAfter).toBe(1000);
  pacer.ended(Date.now(), false);
  pacer.ended(Date.now(), false);
  let proven = 0;
  // Closed (or ended) before it proved itself: nothing happens, the count stands.
  const cancel = pacer.opened(() => proven++);
  jest.advanceTimersByTime(999);
  cancel();
  jest.advanceTimersByTime(5000);
  expect([proven, pacer.inARow, pacer.wait()]).toEqual([0, 2, 50]);
  // Up a full maxDelay, quiet: proven, and the next end is at once.
  pacer.opened(() => proven++);
  jest.advanceTimersByTime(1000);
  expect([proven, pacer.inARow, pacer.wait()]).toEqual([1, 0, 0]);
  // The timer does not hold the process open.
  const spy = jest.spyOn(global, 'setTimeout');
  pacer.opened()();
  expect((spy.mock.results[0].value as NodeJS.Timeout).hasRef()).toBe(false);
  spy.mockRestore();
  // A maxDelay past the timer range (a timeout would fire at once) never proves a watch early.
  const endless = new RewatchPacer({ initialDelay: 1, maxDelay: 2 ** 31 });
  endless.ended(Date.now(), false);
  endless.opened(() => proven++);
  jest.advanceTimersByTime(60_000);
  expect([proven, endless.inARow]).toEqual([1, 1]);
});
