import fc from 'fast-check';
import { FilterBudgetError } from '../../lib/errors';
import { compilePattern } from '../../lib/model/event-pattern';
import { MatchBudget } from '../../lib/model/match-budget';
import { compilePattern as legacyCompile } from '../helpers/legacy-event-pattern';

/** Counts the steps spent (searching spends through spend too). */
class CountingBudget extends MatchBudget {
  spent = 0;
  override spend(steps: number): void {
    this.spent += steps;
    super.spend(steps);
  }
}

const TEXTS = [
  '',
  'FR',
  'fr',
  'DE',
  'gold',
  '/shop/eu',
  '/shop/',
  'order-42',
  'İx',
  'a'.repeat(40),
];
const scalar = fc.oneof(
  fc.constantFrom(...TEXTS),
  fc.constantFrom(0, -0, 1, 2.5, 100, 120, 1000, -3),
  fc.constantFrom(null, true, false),
  fc.string({ maxLength: 6 }),
);
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }), fc.constant({ nested: 'x' }));
const FIELDS = ['source', 'subject', 'tenant', 'amount', 'country', 'tags'];

const event = fc.record(
  {
    source: value,
    subject: value,
    tenant: value,
    data: fc.record(
      { amount: value, country: value, tags: value, customer: fc.record({ tier: value }) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

const text = fc.oneof(fc.constantFrom(...TEXTS), fc.string({ maxLength: 5 }));
const numericOp = fc.constantFrom('<', '<=', '=', '>', '>=');
const bound = fc.constantFrom(0, 1, 2.5, 100, 120, 1000, -3);
const matcher = fc.oneof(
  scalar.filter((v) => typeof v !== 'string' || v.length < 20),
  text.map((s) => ({ prefix: s })),
  text.map((s) => ({ suffix: s })),
  text.map((s) => ({ 'equals-ignore-case': s })),
  fc
    .array(fc.constantFrom('a', 'sh', '/', 'o', 'FR', 'eu'), { minLength: 1, maxLength: 3 })
    .chain((parts) =>
      fc
        .array(fc.boolean(), { minLength: parts.length + 1, maxLength: parts.length + 1 })
        .map((stars) => ({
          wildcard:
            parts.reduce((w, p, i) => w + (stars[i] ? '*' : '') + p, '') +
            (stars[parts.length] ? '*' : ''),
        })),
    ),
  fc.boolean().map((b) => ({ exists: b })),
  fc.tuple(numericOp, bound).map(([op, n]) => ({ numeric: [op, n] })),
  fc
    .tuple(fc.constantFrom('>', '>='), bound, fc.constantFrom('<', '<='), bound)
    .map((range) => ({ numeric: range })),
  fc.oneof(text, bound).map((v) => ({ 'anything-but': v })),
  fc
    .array(fc.oneof(text, bound), { minLength: 1, maxLength: 3 })
    .map((v) => ({ 'anything-but': v })),
  text.map((s) => ({ 'anything-but': { prefix: s } })),
  text.map((s) => ({ 'anything-but': { suffix: s } })),
);
const leaf = fc.array(matcher, { minLength: 1, maxLength: 3 });
const fields = fc.dictionary(fc.constantFrom(...FIELDS), leaf, { minKeys: 1, maxKeys: 3 });
/** A pattern over the event's fields: some top-level, some under data, maybe an $or. */
const pattern = fc
  .tuple(fields, fields, fc.option(fc.array(fields, { minLength: 2, maxLength: 3 })))
  .map(([top, data, or]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(top)) {
      if (['source', 'subject', 'tenant'].includes(k)) out[k] = v;
    }
    out.data = { ...data, customer: { tier: data.country ?? ['gold'] } };
    if (or) out.$or = or.map((branch) => ({ data: branch }));
    return out;
  });

function outcome(run: () => unknown): unknown {
  try {
    return { value: run() };
  } catch (error) {
    return { error: error instanceof FilterBudgetError ? 'budget' : String(error) };
  }
}

describe('the data-driven matcher agrees with the closure matcher it replaced', () => {
  test('same result, same failed field, same steps spent, same budget errors', () => {
    fc.assert(
      fc.property(pattern, event, fc.integer({ min: 0, max: 40 }), (p, e, limit) => {
        const ours = compilePattern(p);
        const theirs = legacyCompile(p);
        const a = new CountingBudget(Infinity);
        const b = new CountingBudget(Infinity);
        expect(ours.matches(e, a)).toBe(theirs.matches(e, b));
        expect(a.spent).toBe(b.spent);
        const c = new CountingBudget(Infinity);
        const d = new CountingBudget(Infinity);
        expect(ours.explain(e, c)).toEqual(theirs.explain(e, d));
        expect(c.spent).toBe(d.spent);
        expect(outcome(() => ours.matches(e, new MatchBudget(limit)))).toEqual(
          outcome(() => theirs.matches(e, new MatchBudget(limit))),
        );
        expect(outcome(() => ours.explain(e, new MatchBudget(limit)))).toEqual(
          outcome(() => theirs.explain(e, new MatchBudget(limit))),
        );
      }),
      { numRuns: 3000 },
    );
  });

  test('the same patterns are refused with the same messages', () => {
    const anything = fc.oneof(pattern, fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()));
    fc.assert(
      fc.property(anything, (p) => {
        expect(outcome(() => compilePattern(p) && 'ok')).toEqual(
          outcome(() => legacyCompile(p) && 'ok'),
        );
      }),
      { numRuns: 2000 },
    );
  });

  test('inherited properties are not fields, whatever their name; own ones are', () => {
    const cases: [unknown, Record<string, unknown>, boolean][] = [
      [{ constructor: [{ exists: true }] }, {}, false],
      [{ toString: [{ exists: false }] }, {}, true],
      [{ data: { hasOwnProperty: [{ exists: true }] } }, { data: {} }, false],
      [{ data: { length: [2] } }, { data: ['a', 'b'] }, true],
      [{ data: { map: [{ exists: true }] } }, { data: ['a'] }, false],
      [JSON.parse('{"__proto__": [{"exists": true}]}'), {}, false],
      [JSON.parse('{"__proto__": ["x"]}'), JSON.parse('{"__proto__": "x"}'), true],
      [{ f: [{ exists: true }] }, { f: () => 1 }, true],
      [{ x: [{ exists: false }] }, { x: undefined }, true],
    ];
    for (const [pattern, event, expected] of cases) {
      expect(compilePattern(pattern).matches(event)).toBe(expected);
      expect(legacyCompile(pattern).matches(event)).toBe(expected);
    }
  });

  test('programs too wide for bytes (long texts, many fields) match and spend as before', () => {
    const many = Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`f${i}`, [`v${i}`]]));
    for (const length of [5_000, 1_100_000]) {
      const text = 'a'.repeat(length);
      for (const pattern of [
        { x: [{ prefix: text }], y: [{ 'equals-ignore-case': text }] },
        { ...many, x: [{ suffix: text }] },
      ]) {
        for (const event of [
          { x: text, y: text },
          { ...Object.fromEntries(Object.entries(many).map(([k, v]) => [k, v[0]])), x: text },
          { x: 'b' },
        ]) {
          const a = new CountingBudget(Infinity);
          const b = new CountingBudget(Infinity);
          expect(compilePattern(pattern).matches(event, a)).toBe(
            legacyCompile(pattern).matches(event, b),
          );
          expect(a.spent).toBe(b.spent);
          expect(compilePattern(pattern).explain(event)).toEqual(
            legacyCompile(pattern).explain(event),
          );
        }
      }
    }
  });
});
