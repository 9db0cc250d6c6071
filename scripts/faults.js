// `npm run faults -- --seeds N [--store zookeeper|consul|etcd] [--first S]`: the random fault
// run of scripts/fault-run.js for seeds S..S+N-1 (default 1..N) on each store (or the one named),
// one seed at a time. Prints each seed's outcome, then the seeds run and the divergences per
// store; exits non-zero on any divergence, printing what the diverging gateway saw.
const os = require('node:os');
const { parseArgs } = require('node:util');
const { runFaults, KINDS } = require('./fault-run');

async function main() {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '5' },
      first: { type: 'string', default: '1' },
      store: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const count = Number(values.seeds);
  const first = Number(values.first);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(first)) {
    throw new Error('--seeds must be a positive integer and --first an integer');
  }
  if (values.store !== undefined && !KINDS.includes(values.store)) {
    throw new Error(`--store must be one of ${KINDS.join(', ')}`);
  }
  const kinds = values.store ? [values.store] : KINDS;
  const seeds = Array.from({ length: count }, (_, i) => first + i);
  const started = Date.now();
  const results = await runFaults({
    kinds,
    seeds,
    log: values.verbose ? (line) => console.log(line) : undefined,
    onResult: (r) => {
      console.log(
        `${r.kind} seed ${r.seed}: ${r.diverged ? 'DIVERGED' : 'converged'} in ${(r.ms / 1000).toFixed(1)} s (writes ok ${r.stats.map((s) => s.ok).join('/')})`,
      );
      if (r.diverged) console.log(JSON.stringify({ plan: r.plan, details: r.details }, null, 1));
    },
  });
  const machine = `${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}`;
  console.log(`\nfault runs (${machine}), ${((Date.now() - started) / 60000).toFixed(1)} min:`);
  let divergences = 0;
  for (const kind of kinds) {
    const mine = results.filter((r) => r.kind === kind);
    const bad = mine.filter((r) => r.diverged);
    divergences += bad.length;
    console.log(
      `${kind}: seeds run ${mine.length}, divergences: ${bad.length}${bad.length ? ` (seeds ${bad.map((r) => r.seed).join(', ')})` : ''}`,
    );
  }
  process.exitCode = divergences === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 2;
});
