import { JsonInterner } from '../../lib/model/json-interner';

describe('JsonInterner', () => {
  test('gives equal lists one frozen array, and keeps what differs apart', () => {
    const interner = new JsonInterner();
    const a = interner.intern(JSON.parse('{"s":[{"prefix":"/shop/"}],"id":["1"],"n":[0]}'));
    const b = interner.intern(JSON.parse('{"s":[{"prefix":"/shop/"}],"id":["2"],"n":[-0]}'));
    expect(a.s).toBe(b.s);
    expect(a.s[0]).toBe(b.s[0]);
    expect(a.id).not.toBe(b.id);
    // -0 is not 0 to whoever reads the value back.
    expect(a.n).not.toBe(b.n);
    expect(Object.is(b.n[0], -0)).toBe(true);
    expect(Object.isFrozen(a) && Object.isFrozen(a.s) && Object.isFrozen(a.s[0])).toBe(true);
    // The value itself is not shared: only its parts.
    const again = interner.intern(JSON.parse('{"s":[{"prefix":"/shop/"}],"id":["1"],"n":[0]}'));
    expect(again).not.toBe(a);
    expect(again.id).toBe(a.id);
  });

  test('key order is part of equality, and a "__proto__" key stays an own key', () => {
    const interner = new JsonInterner();
    const ab = interner.intern(JSON.parse('{"p":{"a":[1],"b":[2]}}')).p;
    const ba = interner.intern(JSON.parse('{"p":{"b":[2],"a":[1]}}')).p;
    expect(ba).not.toBe(ab);
    expect(Object.keys(ba)).toEqual(['b', 'a']);
    const frozen = Object.freeze(JSON.parse('{"__proto__":[1],"x":[1]}'));
    const shared = interner.intern(frozen);
    expect(Object.getPrototypeOf(shared)).toBe(Object.prototype);
    expect(Object.keys(shared)).toEqual(['__proto__', 'x']);
    expect(shared.x).toBe(ab.a);
    expect(JSON.stringify(shared)).toBe('{"__proto__":[1],"x":[1]}');
  });

  test('a frozen value is copied, never changed, when a part of it is shared', () => {
    const interner = new JsonInterner();
    const first = interner.intern(JSON.parse('{"x":["a"]}'));
    const given = Object.freeze({ y: Object.freeze(['a']), z: Object.freeze(['b']) });
    const out = interner.intern(given);
    expect(out).not.toBe(given);
    expect(out.y).toBe(first.x);
    expect(given.y).not.toBe(first.x);
    expect(out).toEqual(given);
  });

  test('keeps at most its limit of lists, and none larger than 256 characters of JSON', () => {
    const interner = new JsonInterner(10);
    for (let i = 0; i < 1000; i++) interner.intern(JSON.parse(`{"id":["${i}"]}`));
    expect(interner.size).toBeLessThanOrEqual(10);
    const long = JSON.parse(JSON.stringify({ x: ['a'.repeat(300)] }));
    const again = JSON.parse(JSON.stringify(long));
    expect(interner.intern(again)).not.toBe(interner.intern(long));
    expect(interner.intern(again)).toEqual(long);
  });
});
