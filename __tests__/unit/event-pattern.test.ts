import { compilePattern } from '../../lib/model/event-pattern';

const EVENT = {
  specversion: '1.0',
  id: 'e-1',
  source: '/shop/eu/checkout',
  type: 'order.placed',
  subject: 'Order-42',
  tenant: 'acme',
  data: {
    amount: 120.5,
    amountText: '120.5',
    country: 'FR',
    tags: ['new', 'gift'],
    customer: { tier: 'gold', name: 'Zoë', vip: null },
    lines: [1, 2, 3],
    empty: '',
  },
};

// [what, pattern, matches]
const CASES: [string, object, boolean][] = [
  ['exact string', { type: ['order.placed'] }, true],
  ['exact: one of several', { data: { country: ['DE', 'FR'] } }, true],
  ['exact: none of several', { data: { country: ['DE', 'IT'] } }, false],
  ['exact number', { data: { amount: [120.5] } }, true],
  ['a number given as a string is not the number', { data: { amountText: [120.5] } }, false],
  ['exact null', { data: { customer: { vip: [null] } } }, true],
  ['null does not match a missing field', { data: { customer: { none: [null] } } }, false],
  ['extension attribute', { tenant: ['acme'] }, true],
  ['nested data', { data: { customer: { tier: ['gold'] } } }, true],
  ['unicode', { data: { customer: { name: ['Zoë'] } } }, true],
  ['case matters', { subject: ['order-42'] }, false],
  ['equals-ignore-case', { subject: [{ 'equals-ignore-case': 'ORDER-42' }] }, true],
  ['array field: one element matches', { data: { tags: ['gift'] } }, true],
  ['array field: no element matches', { data: { tags: ['old'] } }, false],
  ['array of numbers with numeric', { data: { lines: [{ numeric: ['>', 2] }] } }, true],
  ['prefix', { source: [{ prefix: '/shop/' }] }, true],
  ['prefix miss', { source: [{ prefix: '/blog/' }] }, false],
  ['suffix', { source: [{ suffix: '/checkout' }] }, true],
  ['anything-but value', { data: { country: [{ 'anything-but': 'DE' }] } }, true],
  ['anything-but value miss', { data: { country: [{ 'anything-but': 'FR' }] } }, false],
  ['anything-but list', { data: { country: [{ 'anything-but': ['FR', 'DE'] }] } }, false],
  ['anything-but prefix', { source: [{ 'anything-but': { prefix: '/blog' } }] }, true],
  ['anything-but suffix', { source: [{ 'anything-but': { suffix: 'checkout' } }] }, false],
  ['anything-but does not match a missing field', { nothing: [{ 'anything-but': 'x' }] }, false],
  ['numeric range', { data: { amount: [{ numeric: ['>=', 100, '<', 200] }] } }, true],
  ['numeric range miss', { data: { amount: [{ numeric: ['>', 200] }] } }, false],
  ['numeric equals', { data: { amount: [{ numeric: ['=', 120.5] }] } }, true],
  ['numeric on a string', { data: { amountText: [{ numeric: ['>', 0] }] } }, false],
  ['exists true', { subject: [{ exists: true }] }, true],
  ['exists false on a present field', { subject: [{ exists: false }] }, false],
  ['exists false on a missing field', { dataschema: [{ exists: false }] }, true],
  ['exists true on a missing field', { dataschema: [{ exists: true }] }, false],
  ['exists on an empty string', { data: { empty: [{ exists: true }] } }, true],
  ['wildcard', { source: [{ wildcard: '/shop/*/checkout' }] }, true],
  ['wildcard miss', { source: [{ wildcard: '/shop/*/cart' }] }, false],
  ['wildcard is literal but for *', { source: [{ wildcard: '/shop/eu.checkout' }] }, false],
  ['AND across fields', { type: ['order.placed'], data: { country: ['DE'] } }, false],
  ['$or: one branch', { $or: [{ data: { country: ['DE'] } }, { tenant: ['acme'] }] }, true],
  ['$or: no branch', { $or: [{ data: { country: ['DE'] } }, { tenant: ['other'] }] }, false],
  [
    '$or nested in data',
    { data: { $or: [{ country: ['DE'] }, { amount: [{ numeric: ['>', 100] }] }] } },
    true,
  ],
  ['value OR operator in one field', { data: { country: ['DE', { prefix: 'F' }] } }, true],
];

describe('EventBridge-style patterns', () => {
  test.each(CASES)('%s', (_what, pattern, expected) => {
    expect(compilePattern(pattern).matches(EVENT)).toBe(expected);
  });

  test('explain names the first field and operator that failed', () => {
    const compiled = compilePattern({
      type: ['order.placed'],
      data: { amount: [{ numeric: ['>', 500] }], country: ['FR'] },
    });
    expect(compiled.explain(EVENT)).toEqual({ field: 'data.amount', operator: 'numeric' });
    expect(compilePattern({ type: ['order.placed'] }).explain(EVENT)).toBeUndefined();
  });

  const INVALID: [string, unknown, RegExp][] = [
    ['not an object', ['x'], /"filter" must be an object of fields/],
    ['empty', {}, /"filter" must name at least one field/],
    ['leaf not an array', { type: 'order.placed' }, /"filter.type" must be an array/],
    ['empty array', { data: { country: [] } }, /"filter.data.country" must list at least one/],
    [
      'unknown operator',
      { type: [{ regex: '.*' }] },
      /"filter.type" uses the unknown operator "regex"/,
    ],
    ['two operators in one', { type: [{ prefix: 'a', suffix: 'b' }] }, /"filter.type" has/],
    ['prefix not a string', { type: [{ prefix: 1 }] }, /"prefix" takes a string/],
    ['numeric syntax', { data: { n: [{ numeric: ['>>', 1] }] } }, /"filter.data.n" "numeric" has/],
    ['numeric bounds order', { data: { n: [{ numeric: ['<', 1, '>', 0] }] } }, /lower bound/],
    ['exists not boolean', { x: [{ exists: 'yes' }] }, /"exists" takes true or false/],
    ['wildcard **', { x: [{ wildcard: 'a**b' }] }, /consecutive/],
    [
      '$or with one branch',
      { $or: [{ x: ['a'] }] },
      /"filter.\$or" must be an array of at least two/,
    ],
    [
      'bad branch named',
      { $or: [{ x: ['a'] }, { y: 'b' }] },
      /"filter.\$or\[1\].y" must be an array/,
    ],
    ['NaN', { x: [NaN] }, /cannot match NaN/],
  ];
  test.each(INVALID)('refused: %s, naming the field', (_what, pattern, message) => {
    expect(() => compilePattern(pattern)).toThrow(message);
  });

  test('wildcards match in linear time, whatever the event sends', () => {
    const compiled = compilePattern({ data: { text: [{ wildcard: 'a*a*a*a*a*b' }] } });
    // A backtracking regular expression takes hours on this; leftmost matching, no time at all.
    expect(compiled.matches({ data: { text: 'a'.repeat(20_000) } })).toBe(false);
    expect(compiled.matches({ data: { text: 'a'.repeat(20_000) + 'b' } })).toBe(true);
    const middle = compilePattern({ x: [{ wildcard: 'ab*cd*ef' }] });
    expect(middle.matches({ x: 'abXcdYef' })).toBe(true);
    expect(middle.matches({ x: 'abcdef' })).toBe(true);
    expect(middle.matches({ x: 'abcef' })).toBe(false);
    expect(middle.matches({ x: 'abef' })).toBe(false);
    // Prefix and suffix may not overlap.
    expect(compilePattern({ x: [{ wildcard: 'ab*ba' }] }).matches({ x: 'aba' })).toBe(false);
  });

  test('a complexity limit keeps matching cheap', () => {
    const big = { x: Array.from({ length: 101 }, (_, i) => `v${i}`) };
    expect(() => compilePattern(big)).toThrow(/past 100 values and operators/);
    // A long anything-but list is as costly as a long list of values.
    const excluded = { x: [{ 'anything-but': Array.from({ length: 1_000_000 }, (_, i) => i) }] };
    expect(() => compilePattern(excluded)).toThrow(/past 100 values and operators/);
  });
});
