// `npm run bench:curves [instances|subscriptions] [--max N]`: measures the cost curves (both
// when none is named), prints each as a markdown table with its machine, date and load, writes
// bench/results/curves-<curve>-<date>.json and the SVG plots (bench/results/ and bench/curves/).
// --max bounds the curve: instances per store (default 32), or subscriptions (default 1,000,000);
// --store etcd,consul picks the instances curve's setups, --parts async,sync,filtered,etcd the
// subscriptions curve's; --report <points.jsonl> re-renders measured points.
const { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { parseArgs } = require('node:util');
const instances = require('./instances');
const subscriptions = require('./subscriptions');
const { linePlot } = require('./svg-plot');

const RESULTS = join(__dirname, '..', 'results');
const MiB = 2 ** 20;

function machine() {
  const cpus = os.cpus();
  return `${cpus[0].model}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

function load() {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

function table(header, rows) {
  const lines = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  return lines.join('\n');
}

const fixed = (digits) => (value) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const ms = fixed(2);
const mib = (bytes) => (bytes / MiB).toFixed(0);

/** Writes a plot to bench/results/ and its docs copy to bench/curves/. */
function writePlot(name, plot) {
  const file = join(RESULTS, `curves-${name}.svg`);
  writeFileSync(file, linePlot(plot));
  copyFileSync(file, join(__dirname, `${name}.svg`));
  return `bench/curves/${name}.svg`;
}

function seriesBy(points, key, x, y, filter = () => true) {
  const names = [...new Set(points.map((p) => p[key]))];
  return names.map((name) => ({
    name,
    points: points.filter((p) => p[key] === name && filter(p)).map((p) => [p[x], y(p)]),
  }));
}

function reportInstances(result, note) {
  const { points } = result;
  const rows = points.map((p) => [
    p.setup,
    p.instances,
    ms(p.p50),
    ms(p.p99),
    ms(p.firstP50),
    Object.values(p.serverCpuMsPerWrite).map(ms).join(' + '),
    Object.values(p.serverRss).map(mib).join(' + '),
    mib(p.instanceRssIdle),
    mib(p.instanceRssEnd),
    fixed(3)(p.applyCpuMs),
    p.load.map((l) => l.toFixed(1)).join(' / '),
  ]);
  const text = table(
    [
      'store',
      'instances',
      'last p50 ms',
      'last p99 ms',
      'first p50 ms',
      'store CPU ms/write',
      'store RSS MiB',
      'instance RSS MiB (idle, 100 entries)',
      'instance RSS MiB (after)',
      'CPU ms per change per instance',
      'load 1/5/15 min',
    ],
    rows,
  );
  const oneEtcd = points.find((p) => p.setup === 'etcd' && p.instances === 1);
  const plots = [
    writePlot('instances-p99', {
      title: 'write to routable on the last instance, p99',
      xLabel: 'gateway instances',
      yLabel: 'ms',
      note,
      series: seriesBy(points, 'setup', 'instances', (p) => p.p99),
      goal: oneEtcd && { y: 2 * oneEtcd.p99, label: 'goal: 2x etcd at 1 instance' },
    }),
    writePlot('instances-p50', {
      title: 'write to routable on the last instance, p50',
      xLabel: 'gateway instances',
      yLabel: 'ms',
      note,
      series: seriesBy(points, 'setup', 'instances', (p) => p.p50),
    }),
    writePlot('instances-apply-cpu', {
      title: 'CPU per applied change, per instance',
      xLabel: 'gateway instances',
      yLabel: 'ms CPU',
      note,
      series: seriesBy(points, 'setup', 'instances', (p) => p.applyCpuMs),
      goal: { y: 0.1, label: 'goal: 0.1 ms' },
    }),
    writePlot('instances-store-cpu', {
      title: 'store server CPU per write (all its processes)',
      xLabel: 'gateway instances',
      yLabel: 'ms CPU',
      note,
      series: seriesBy(points, 'setup', 'instances', (p) =>
        Object.values(p.serverCpuMsPerWrite).reduce((a, b) => a + b, 0),
      ),
    }),
  ];
  return { text, plots };
}

function reportSubscriptions(result, note) {
  const { memory, etcd } = result;
  const failed = (p) => [
    p.kind ?? 'async (etcd)',
    p.count.toLocaleString('en'),
    `not measured: ${p.error}`,
  ];
  const rows = memory.map((p) =>
    p.error
      ? failed(p)
      : [
          p.kind,
          p.count.toLocaleString('en'),
          fixed(0)(p.lookupNs),
          fixed(0)(p.bytesPerSubscription),
          fixed(0)(p.readyMs),
          fixed(0)(p.rawMs),
          fixed(3)(p.applyP50Ms),
          fixed(3)(p.applyCpuMs),
          fixed(2)(p.writeP50Ms),
          fixed(0)(p.rssMiB),
        ],
  );
  const memoryText = table(
    [
      'kind',
      'subscriptions',
      'lookup ns',
      'heap B/subscription',
      'ready ms (memory store)',
      'raw listing ms (in process)',
      'apply p50 ms (put to routed)',
      'apply CPU ms',
      'write API p50 ms',
      'RSS MiB',
    ],
    rows,
  );
  const etcdText = table(
    ['subscriptions (async, etcd)', 'ready ms', 'raw listing ms (10,000 per page)', 'ready / raw'],
    etcd.map((p) =>
      p.error
        ? failed(p)
        : [p.count.toLocaleString('en'), fixed(0)(p.readyMs), fixed(0)(p.rawMs), fixed(2)(p.ratio)],
    ),
  );
  const asyncFirst = memory.find((p) => p.kind === 'async');
  const plots = [
    writePlot('subscriptions-lookup', {
      title: 'routing lookup (one candidate)',
      xLabel: 'subscriptions',
      yLabel: 'ns per lookup',
      note,
      series: seriesBy(memory, 'kind', 'count', (p) => p.lookupNs),
      goal: asyncFirst && { y: 1.5 * asyncFirst.lookupNs, label: 'goal: 1.5x async at 1k' },
    }),
    writePlot('subscriptions-bytes', {
      title: 'heap bytes per subscription',
      xLabel: 'subscriptions',
      yLabel: 'bytes',
      note,
      series: seriesBy(memory, 'kind', 'count', (p) => p.bytesPerSubscription),
      goal: { y: 1024, label: 'goal: 1 KiB' },
    }),
    writePlot('subscriptions-cold-start', {
      title: 'cold start on etcd: ready() / raw listing, 10,000 per page',
      xLabel: 'subscriptions (async)',
      yLabel: 'ratio',
      note,
      series: [{ name: 'etcd', points: etcd.map((p) => [p.count, p.ratio]) }],
      goal: { y: 1.2, label: 'goal: 1.2x' },
    }),
    writePlot('subscriptions-apply', {
      title: 'one configuration change: store put to routed, p50',
      xLabel: 'subscriptions',
      yLabel: 'ms',
      note,
      series: seriesBy(memory, 'kind', 'count', (p) => p.applyP50Ms),
    }),
  ];
  return { text: `${memoryText}\n\n${etcdText}`, plots };
}

/**
 * `--report <file.partial.jsonl>`: the tables and plots again from points already measured (one
 * run's, or several runs' concatenated), without measuring.
 */
function rerender(file, curve) {
  const points = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const note = [machine(), `points of ${file.split('/').pop()}`];
  const report =
    curve === 'instances'
      ? reportInstances({ points }, note)
      : reportSubscriptions(
          {
            memory: points.filter((p) => p.kind && p.curve !== 'etcd'),
            etcd: points.filter((p) => !p.kind),
          },
          note,
        );
  console.log(`${report.text}\n\nPlots: ${report.plots.join(', ')}`);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      max: { type: 'string' },
      store: { type: 'string' },
      parts: { type: 'string' },
      report: { type: 'string' },
    },
  });
  if (values.report) return rerender(values.report, positionals[0]);
  const known = { instances, subscriptions };
  const curves = positionals.length ? positionals : Object.keys(known);
  const unknown = curves.filter((c) => !(c in known));
  if (unknown.length)
    throw new Error(`unknown curve(s) ${unknown.join(', ')}: instances, subscriptions`);
  mkdirSync(RESULTS, { recursive: true });
  for (const curve of curves) {
    const max = Number(values.max ?? (curve === 'instances' ? 32 : 1_000_000));
    const date = new Date().toISOString();
    const loadBefore = load();
    process.stderr.write(`curve ${curve} (max ${max}), load ${loadBefore}\n`);
    const started = Date.now();
    const partial = join(RESULTS, `curves-${curve}-${date.replace(/[:.]/g, '-')}.partial.jsonl`);
    const onPoint = (point) => appendFileSync(partial, JSON.stringify(point) + '\n');
    const setups = values.store?.split(',');
    const parts = values.parts?.split(',');
    const result = await known[curve].run({
      max,
      onPoint,
      ...(setups ? { setups } : {}),
      ...(parts ? { parts } : {}),
    });
    const loadAfter = load();
    const note = [machine(), `${date.slice(0, 16)}Z, load average ${loadBefore} -> ${loadAfter}`];
    const report =
      curve === 'instances' ? reportInstances(result, note) : reportSubscriptions(result, note);
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    const notes = result.notes ?? [];
    const header = [
      `Machine: ${machine()}`,
      `Date: ${date}; ${minutes} min; load average (1/5/15 min) before ${loadBefore}, after ${loadAfter}`,
      ...notes.map((n) => `Note: ${n}`),
    ].join('\n');
    console.log(
      `\n## ${curve}\n\n${header}\n\n${report.text}\n\nPlots: ${report.plots.join(', ')}`,
    );
    const file = join(RESULTS, `curves-${curve}-${date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        { curve, machine: machine(), date, loadBefore, loadAfter, minutes, max, ...result },
        null,
        2,
      ),
    );
    console.log(`Results written to ${file}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
