// (a) Routing lookups with 100,000 subscriptions against 10: the lookup must not grow with the
// subscriptions of other event types and spaces.
const { benchFilter, FILTER_EVENT: EVENT, loadInternals, opsPerSecond } = require('./harness');

// The Router is internal: the package ships no file of its own for it, so bundle it here (with
// the MatchBudget the delivery path gives filters).
const { Router, MatchBudget } = loadInternals(
  "export { Router } from './router/router';\n" +
    "export { MatchBudget } from './model/match-budget';\n",
);
const { setFlagsFromString } = require('node:v8');
const { runInNewContext } = require('node:vm');

// A full collection between two sizes: the last router's garbage must not be collected while
// the next one is being timed.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc');

function routerWith(count) {
  const router = new Router();
  const changes = [];
  for (let i = 0; i < count; i++) {
    // Spread over 100 spaces and 1,000 event types per space; the looked-up type has one subscriber.
    const space = `space-${i % 100}`;
    const eventType = `type.${Math.floor(i / 100) % 1000}`;
    const record = {
      space,
      subscriptionId: `sub-${i}`,
      type: 'async',
      eventType,
      functionId: `fn-${i}`,
      path: '/',
      method: 'POST',
    };
    changes.push({ resource: 'subscription', space, id: record.subscriptionId, record });
  }
  router.apply(changes);
  return router;
}

/**
 * A router of `count` subscriptions of one kind, 10 of which answer the lookup: async (spread
 * over 100 spaces x 1,000 event types, the 10 on one type), filtered (the same, each with a
 * filter of its own), sync (every one on the same space, type and method, each on a path of its
 * own: one trie of `count` routes).
 */
function curveRouter(count, kind) {
  const router = new Router();
  const changes = [];
  for (let i = 0; i < count; i++) {
    const looked = i < 10;
    const record =
      kind === 'sync'
        ? {
            space: 'space-0',
            subscriptionId: `sub-${i}`,
            type: 'sync',
            eventType: 'looked.up',
            functionId: `fn-${i}`,
            path: `/orders/r${i}`,
            method: 'POST',
          }
        : {
            space: looked ? 'space-0' : `space-${i % 100}`,
            subscriptionId: `sub-${i}`,
            type: 'async',
            eventType: looked ? 'looked.up' : `type.${Math.floor(i / 100) % 1000}`,
            functionId: `fn-${i}`,
            path: '/',
            method: 'POST',
            ...(kind === 'filtered' ? { filter: benchFilter(i) } : {}),
          };
    changes.push({
      resource: 'subscription',
      space: record.space,
      id: record.subscriptionId,
      record,
    });
    if (changes.length === 10_000) router.apply(changes.splice(0));
  }
  router.apply(changes);
  return router;
}

/** One lookup of each kind, as the delivery path makes it (filters matched for the filtered). */
const LOOKUP = {
  async: (router) => router.asyncTargets('space-0', 'looked.up', 'POST', '/').length,
  sync: (router) => (router.syncTarget('space-0', 'looked.up', 'POST', '/orders/r7') ? 1 : 0),
  filtered: (router) => {
    const candidates = router.asyncTargets('space-0', 'looked.up', 'POST', '/');
    let n = 0;
    // One budget per event for all its candidates, as deliveries spend it.
    const budget = new MatchBudget(200_000);
    for (const { value } of candidates) if (router.filterOf(value).matches(EVENT, budget)) n++;
    return n;
  },
};

/**
 * Nanoseconds of process CPU one call takes, the best of 7 runs of 200 ms after a warm-up: CPU
 * time, not wall time, so that on a shared machine the moments this process waits for a core
 * are not counted as lookups (which keep their working set in cache whatever the other routes).
 */
function cpuNsPer(fn) {
  for (let i = 0; i < 200; i++) fn();
  let best = Infinity;
  for (let run = 0; run < 7; run++) {
    const start = process.cpuUsage();
    let calls = 0;
    let used = 0;
    do {
      fn();
      calls++;
      const { user, system } = process.cpuUsage(start);
      used = user + system;
    } while (used < 200_000);
    best = Math.min(best, (used * 1000) / calls);
  }
  return best;
}

/** Nanoseconds per lookup at 1k, 10k, 100k and 1M subscriptions of each kind. */
async function curves(sizes = [1_000, 10_000, 100_000, 1_000_000]) {
  const rows = [];
  const LOOKUPS = 1000;
  for (const kind of Object.keys(LOOKUP)) {
    for (const count of sizes) {
      let router = curveRouter(count, kind);
      collectGarbage();
      const lookup = LOOKUP[kind];
      let sink = 0;
      const ns = cpuNsPer(() => {
        for (let i = 0; i < LOOKUPS; i++) sink += lookup(router);
      });
      if (sink === 0) throw new Error(`routing ${kind}: no lookup found its subscription`);
      rows.push({ kind, count, nsPerLookup: ns / LOOKUPS });
      router = undefined;
      collectGarbage();
    }
  }
  return rows;
}

module.exports = [
  {
    name: 'routing',
    title: '(a) routing lookup, 100,000 subscriptions vs 10',
    goal: 'ratio >= 0.8 and > 1 M lookups/s',
    async run() {
      const big = routerWith(100_000);
      const small = routerWith(10);
      let sink = 0;
      const LOOKUPS = 1000;
      const rates = await opsPerSecond({
        ours: () => {
          for (let i = 0; i < LOOKUPS; i++)
            sink += big.asyncTargets('space-5', 'type.0', 'POST', '/').length;
        },
        baseline: () => {
          for (let i = 0; i < LOOKUPS; i++)
            sink += small.asyncTargets('space-5', 'type.0', 'POST', '/').length;
        },
      });
      if (sink === 0) throw new Error('routing: no lookup found its subscription');
      const ours = rates.ours * LOOKUPS;
      const baseline = rates.baseline * LOOKUPS;
      return {
        ours: { value: ours, unit: 'lookups/s', label: '100,000 subscriptions' },
        baseline: { value: baseline, unit: 'lookups/s', label: '10 subscriptions' },
        ratio: ours / baseline,
        met: ours / baseline >= 0.8 && ours > 1e6,
      };
    },
  },
  {
    name: 'routing-curve',
    title: '(a2) routing lookup at 1k, 10k, 100k and 1M subscriptions (async, sync, filtered)',
    goal: 'each kind flat within 1.5x from 1k to 1M',
    async run() {
      const rows = await curves();
      const spread = Object.keys(LOOKUP).map((kind) => {
        const times = rows.filter((r) => r.kind === kind).map((r) => r.nsPerLookup);
        return {
          kind,
          ratio: Math.max(...times) / Math.min(...times),
          at1k: times[0],
          last: times[times.length - 1],
        };
      });
      const worst = spread.reduce((a, b) => (b.ratio > a.ratio ? b : a));
      return {
        ours: { value: worst.last, unit: 'ns/lookup', label: `${worst.kind}, 1M subscriptions` },
        baseline: {
          value: worst.at1k,
          unit: 'ns/lookup',
          label: `${worst.kind}, 1k subscriptions`,
        },
        ratio: worst.ratio,
        difference: rows
          .map((r) => `${r.kind} ${r.count}: ${r.nsPerLookup.toFixed(0)} ns`)
          .join('; '),
        details: rows,
        met: spread.every((s) => s.ratio <= 1.5),
      };
    },
  },
];
