// (a) Routing lookups with 100,000 subscriptions against 10: the lookup must not grow with the
// subscriptions of other event types and spaces.
const { mkdtempSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { buildSync } = require('esbuild');

// The Router is internal: the package ships no file of its own for it, so bundle it here.
function loadRouter() {
  const file = join(mkdtempSync(join(tmpdir(), 'eg-router-')), 'router.js');
  const [output] = buildSync({
    entryPoints: [join(__dirname, '../lib/router/router.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    write: false,
  }).outputFiles;
  writeFileSync(file, output.contents);
  return require(file).Router;
}
const Router = loadRouter();
const { opsPerSecond } = require('./harness');

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

module.exports = {
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
};
