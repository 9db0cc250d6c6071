import { KeyLayout } from '../../lib/model/key-layout';

/** What `parse` answered when it split the rest of the key (the reference it must keep). */
function bySplit(layout: KeyLayout, key: string) {
  if (!key.startsWith(layout.prefix)) return undefined;
  const parts = key.slice(layout.prefix.length).split('/');
  if (parts.length !== 3 || !parts[1] || !parts[2]) return undefined;
  const kinds = ['eventtypes', 'functions', 'subscriptions', 'cors', 'connections'];
  if (!kinds.includes(parts[0])) return undefined;
  return { kind: parts[0], space: parts[1], id: parts[2] };
}

test('parse reads <kind>/<space>/<id> after the prefix and refuses every other shape', () => {
  const layout = new KeyLayout();
  const p = layout.prefix;
  const keys = [
    `${p}subscriptions/default/s1`,
    `${p}functions/a b/f%2F1`,
    `${p}subscriptions/default/`,
    `${p}subscriptions//s1`,
    `${p}subscriptions/default/s1/extra`,
    `${p}subscriptions/default/s1/`,
    `${p}subscriptions/default`,
    `${p}subscriptions/`,
    `${p}subscriptions`,
    `${p}/default/s1`,
    `${p}nope/default/s1`,
    `${p}`,
    `${p}//`,
    `${p}///`,
    `${p}cors/x/y`,
    '/other/subscriptions/default/s1',
    `${p.slice(0, -1)}subscriptions/default/s1`,
  ];
  for (const key of keys) expect([key, layout.parse(key)]).toEqual([key, bySplit(layout, key)]);
  expect(layout.parse(`${p}subscriptions/default/s1`)).toEqual({
    kind: 'subscriptions',
    space: 'default',
    id: 's1',
  });
});
