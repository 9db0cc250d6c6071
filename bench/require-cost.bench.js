// (g) The cost of require('event-gateway') against requiring eventemitter3 alone, in fresh
// processes (what a CLI or a REPL user pays).
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { median } = require('./harness');

const RUNS = 15;
const root = join(__dirname, '..');

function timeRequire(target) {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(target)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const out = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(out.stderr);
    times.push(Number(out.stdout));
  }
  return median(times);
}

module.exports = {
  name: 'require-cost',
  title: "(g) require('event-gateway') vs require('eventemitter3')",
  goal: 'within 25 ms of eventemitter3',
  async run() {
    const ours = timeRequire(root);
    const baseline = timeRequire('eventemitter3');
    return {
      ours: { value: ours, unit: 'ms', label: "require('event-gateway')" },
      baseline: { value: baseline, unit: 'ms', label: "require('eventemitter3')" },
      ratio: ours / baseline,
      difference: `${(ours - baseline).toFixed(1)} ms`,
      met: ours - baseline <= 25,
    };
  },
};
