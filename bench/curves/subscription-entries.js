// The configuration of the subscriptions curve: `count` subscriptions of one kind (async, sync or
// filtered) over 1,000 functions and 1,000 event types, as the gateway stores them, so that a
// store can be filled in bulk (the write API validates each one: minutes at 1M).
const { subscriptionId } = require('../../dist');

const FUNCTIONS = 1000;
const EVENT_TYPES = 1000;
const KINDS = ['async', 'sync', 'filtered'];

/**
 * Subscription `i` of a kind. Async and filtered: event type `type.<i mod 1000>`, path
 * `/p<i div 1000>`, so a lookup of (type.0, /p0) has exactly one candidate at every size; sync:
 * `GET /s<i>` of http.request, every route in one path trie. Each filter is distinct (its
 * `anything-but` names the subscription), as tenants' filters are.
 */
function subscriptionAt(kind, i) {
  const base =
    kind === 'sync'
      ? { type: 'sync', eventType: 'http.request', path: `/s${i}`, method: 'GET' }
      : {
          type: 'async',
          eventType: `type.${i % EVENT_TYPES}`,
          path: `/p${Math.floor(i / EVENT_TYPES)}`,
          method: 'POST',
        };
  const sub = { ...base, functionId: `fn${i % FUNCTIONS}` };
  if (kind === 'filtered') {
    sub.filter = {
      source: [{ prefix: '/shop/' }],
      subject: [{ 'anything-but': `order-${i}` }],
      data: {
        amount: [{ numeric: ['>=', 100, '<', 1000] }],
        country: ['FR', 'DE'],
        tier: ['gold', 'platinum'],
      },
    };
  }
  return { space: 'default', subscriptionId: subscriptionId(sub), ...sub };
}

/** The functions and event types every subscription refers to, as store puts under `prefix`. */
function baseEntries(prefix) {
  const ops = [];
  for (let i = 0; i < FUNCTIONS; i++) {
    const fn = {
      space: 'default',
      functionId: `fn${i}`,
      type: 'http',
      provider: { url: `http://127.0.0.1:1/fn${i}` },
    };
    ops.push({ type: 'put', key: `${prefix}/functions/default/fn${i}`, value: JSON.stringify(fn) });
  }
  for (let i = 0; i < EVENT_TYPES; i++) {
    const name = `type.${i}`;
    const value = JSON.stringify({ space: 'default', name });
    ops.push({ type: 'put', key: `${prefix}/eventtypes/default/${name}`, value });
  }
  return ops;
}

/** The put of subscription `i` of a kind under `prefix`. */
function subscriptionPut(prefix, kind, i) {
  const sub = subscriptionAt(kind, i);
  return {
    type: 'put',
    key: `${prefix}/subscriptions/default/${sub.subscriptionId}`,
    value: JSON.stringify(sub),
  };
}

/** Writes the base entries and `count` subscriptions into `store`, `batch` puts per txn. */
async function fillStore(store, prefix, kind, count, batch = 1000) {
  const base = baseEntries(prefix);
  for (let i = 0; i < base.length; i += batch) await store.txn([], base.slice(i, i + batch));
  for (let i = 0; i < count; i += batch) {
    const ops = [];
    for (let j = i; j < Math.min(count, i + batch); j++) ops.push(subscriptionPut(prefix, kind, j));
    await store.txn([], ops);
  }
}

module.exports = { KINDS, FUNCTIONS, EVENT_TYPES, subscriptionAt, fillStore };
