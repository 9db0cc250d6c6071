import { PathTrie } from '../../lib/router/path-trie';

function trie(routes: string[]): PathTrie<string> {
  const t = new PathTrie<string>();
  for (const route of routes) t.add(route, route);
  return t;
}

describe('PathTrie.matchBest: one route, static before parameter before wildcard', () => {
  const t = trie(['/users/admin', '/users/:id', '/users/*rest', '/users/:id/posts', '/*all', '/']);

  test.each([
    ['/users/admin', '/users/admin', {}],
    ['/users/ada', '/users/:id', { id: 'ada' }],
    ['/users/ada/posts', '/users/:id/posts', { id: 'ada' }],
    ['/users/ada/likes', '/users/*rest', { rest: 'ada/likes' }],
    ['/users/admin/posts', '/users/:id/posts', { id: 'admin' }],
    ['/other/thing', '/*all', { all: 'other/thing' }],
    ['/', '/', {}],
    ['/users/ada/', '/users/:id', { id: 'ada' }],
  ])('%s -> %s', (path, route, params) => {
    expect(t.matchBest(path)).toEqual({ values: [route], params });
  });

  test('backtracks out of a static branch that dead-ends', () => {
    const b = trie(['/a/b/c', '/a/:x/d']);
    expect(b.matchBest('/a/b/d')).toEqual({ values: ['/a/:x/d'], params: { x: 'b' } });
    expect(b.matchBest('/a/b/e')).toBeUndefined();
  });

  test('paths are matched as given (callers pass the canonical, decoded form)', () => {
    const d = trie(['/files/:name']);
    expect(d.matchBest('/files/a b')).toEqual({
      values: ['/files/:name'],
      params: { name: 'a b' },
    });
    expect(d.matchBest('/files/%61')).toEqual({
      values: ['/files/:name'],
      params: { name: '%61' },
    });
  });
});

describe('PathTrie.matchAll: every matching route (fan-out)', () => {
  test('static, parameter and wildcard routes all match', () => {
    const t = trie(['/users/admin', '/users/:id', '/users/*rest', '/orders/:id']);
    expect(
      t
        .matchAll('/users/admin')
        .map((m) => m.value)
        .sort(),
    ).toEqual(['/users/*rest', '/users/:id', '/users/admin']);
  });

  test('the root matches are cached until the trie changes', () => {
    const t = trie(['/']);
    expect(t.matchAll('/').map((m) => m.value)).toEqual(['/']);
    t.add('/', 'second');
    expect(t.matchAll('/').map((m) => m.value)).toEqual(['/', 'second']);
    t.remove('/', '/');
    expect(t.matchAll('/').map((m) => m.value)).toEqual(['second']);
  });

  test('size counts values; removing an unknown route or value changes nothing', () => {
    const t = trie(['/a', '/b/:x', '/c/*y']);
    expect(t.size).toBe(3);
    t.remove('/nope', 'x');
    t.remove('/a', 'other');
    expect(t.size).toBe(3);
    t.remove('/b/:x', '/b/:x');
    t.remove('/c/*y', '/c/*y');
    expect(t.size).toBe(1);
    expect(t.matchAll('/b/1')).toEqual([]);
    expect(t.matchBest('/c/1')).toBeUndefined();
  });

  test('routes removed leave no node behind: a trie of churning paths stays bounded', () => {
    const t = new PathTrie<string>();
    const empty = t.nodeCount;
    t.add('/kept/:id', 'kept');
    const kept = t.nodeCount;
    for (let i = 0; i < 1000; i++) {
      const route = [`/moved/${i}/a`, `/kept/:id/${i}`, `/w/${i}/*rest`, `/p/:x${i}/q`][i % 4];
      t.add(route, 'v');
      expect(t.matchAll(route.replace(/[:*]\w+/g, 'z')).length).toBeGreaterThan(0);
      t.remove(route, 'v');
    }
    expect(t.nodeCount).toBe(kept);
    expect(t.matchBest('/kept/1')).toEqual({ values: ['kept'], params: { id: '1' } });
    t.remove('/kept/:id', 'kept');
    expect(t.nodeCount).toBe(empty);
    expect(t.size).toBe(0);
    // A route shared by two values stays until the last goes.
    t.add('/a/b', 'x');
    t.add('/a/b', 'y');
    t.remove('/a/b', 'x');
    expect(t.matchAll('/a/b').map((m) => m.value)).toEqual(['y']);
    t.remove('/a/b', 'y');
    expect(t.nodeCount).toBe(empty);
  });

  test('many values on one route: added once each, removed one by one, in order', () => {
    const t = new PathTrie<string>();
    const values = Array.from({ length: 20 }, (_, i) => `v${i}`);
    for (const v of [...values, ...values]) t.add('/', v);
    for (const v of values) t.add('/w/*rest', v);
    expect(t.size).toBe(40);
    for (const v of values.filter((_, i) => i % 2)) {
      t.remove('/', v);
      t.remove('/w/*rest', v);
    }
    const evens = values.filter((_, i) => i % 2 === 0);
    expect(t.matchAll('/').map((m) => m.value)).toEqual(evens);
    expect(t.matchBest('/w/a/b')).toEqual({ values: evens, params: { rest: 'a/b' } });
    for (const v of evens.slice(0, 9)) t.remove('/', v);
    expect(t.matchAll('/').map((m) => m.value)).toEqual(['v18']);
    expect(t.size).toBe(11);
  });
});
