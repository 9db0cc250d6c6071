// (m) Memory: what a gateway holds per subscription at 10k, 100k and 1M subscriptions (async,
// sync, filtered; its cache, catalog and router, heap and external memory after GC), against the
// least a copy can hold (each stored value JSON.parse'd into a Map); and the RSS of an idle
// gateway on a MemoryStore with 100 entries, against a Node process that loaded nothing. Each
// figure is taken in a fresh process (bench/memory-child.js, run with --expose-gc).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

function child(...args) {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', join(__dirname, 'memory-child.js'), ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out);
}

const MiB = 2 ** 20;

module.exports = {
  name: 'memory',
  title: '(m) bytes per subscription at 10k/100k/1M; idle RSS with 100 entries',
  goal: '< 1 KiB per subscription; idle RSS < 40 MiB',
  async run() {
    const sizes = (process.env.MEMORY_SIZES ?? '10000,100000,1000000').split(',').map(Number);
    const rows = [];
    for (const kind of ['async', 'sync', 'filtered']) {
      for (const count of sizes) rows.push(child('per-subscription', String(count), kind));
    }
    const idle = child('idle');
    const bare = child('bare');
    const unfiltered = rows.filter((r) => r.kind !== 'filtered');
    const worst = Math.max(...unfiltered.map((r) => r.bytesPerSubscription));
    return {
      ours: { value: worst, unit: 'B/subscription', label: 'worst unfiltered' },
      baseline: {
        value: Math.max(...unfiltered.map((r) => r.rawBytesPerSubscription)),
        unit: 'B/subscription',
        label: 'JSON.parse into a Map',
      },
      ratio: worst / Math.max(...unfiltered.map((r) => r.rawBytesPerSubscription)),
      difference:
        rows
          .map(
            (r) =>
              `${r.kind} ${r.count}: ${r.bytesPerSubscription.toFixed(0)} B (raw ${r.rawBytesPerSubscription.toFixed(0)})`,
          )
          .join('; ') +
        `; idle RSS ${(idle.rss / MiB).toFixed(1)} MiB (heap ${(idle.heapUsed / MiB).toFixed(1)}), bare Node ${(bare.rss / MiB).toFixed(1)} MiB`,
      details: { rows, idle, bare },
      met: worst < 1024 && idle.rss < 40 * MiB,
    };
  },
};
