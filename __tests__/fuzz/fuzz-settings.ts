import type { Parameters as FcParameters } from 'fast-check';

/**
 * Seeded, bounded fuzzing: a few hundred cases per property in `npm test`, many more with
 * `npm run fuzz` (FUZZ_RUNS). A failure prints its seed and path; FUZZ_SEED replays it.
 */
export function fuzzParameters<T>(runs = 150): FcParameters<T> {
  const scale = Number(process.env.FUZZ_RUNS ?? 0);
  return {
    seed: process.env.FUZZ_SEED === undefined ? 20261127 : Number(process.env.FUZZ_SEED),
    numRuns: scale > 0 ? scale : runs,
    endOnFailure: true,
  };
}

/** Values of every kind a careless or hostile caller can pass, oddities included. */
export const ODD_VALUES: readonly unknown[] = [
  undefined,
  null,
  0,
  -1,
  NaN,
  Infinity,
  2 ** 31,
  '',
  ' ',
  'x'.repeat(300),
  '\r\n',
  '\u0000',
  '__proto__',
  'constructor',
  true,
  [],
  {},
  Object.create(null),
  () => 1,
  Symbol('s'),
  10n,
  new Date(0),
  new Map(),
];

/** A test's time limit: jest's default in `npm test`, generous for `npm run fuzz`. */
export function fuzzTimeout(): number {
  return Number(process.env.FUZZ_RUNS ?? 0) > 0 ? 30 * 60_000 : 30_000;
}
