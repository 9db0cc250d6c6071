// `npm run bench [name ...] [--repeat N]`: runs the benchmarks (all, or those named; N times over,
// in turn, so that the machine's drift falls on each alike), prints one table, and writes the
// results as JSON into bench/results/ with their chart beside it (SVG). A run of every benchmark
// also redraws the chart BENCHMARKS.md shows, bench/charts/latest.svg.
// `node bench/run.js --chart <results.json> ...` redraws that chart from saved results (several
// files: each benchmark's runs make its range).
const { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { basename, join } = require('node:path');
const { parseArgs } = require('node:util');
const { format } = require('./harness');
const { resultsChart } = require('./results-chart');

const LATEST = join(__dirname, 'charts', 'latest.svg');
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

/** Redraws bench/charts/latest.svg from saved results files. */
function redraw(files) {
  if (!files.length)
    throw new Error('--chart takes the results files to draw: bench/results/*.json');
  const runs = files.map((file) => ({ file, ...JSON.parse(readFileSync(file, 'utf8')) }));
  const note = [
    runs[0].machine,
    ...runs.map(
      (r) =>
        `${basename(r.file)}: ${r.date.slice(0, 16)}Z${r.loadBefore ? `, load average ${r.loadBefore} -> ${r.loadAfter}` : ''}`,
    ),
  ];
  mkdirSync(join(__dirname, 'charts'), { recursive: true });
  writeFileSync(
    LATEST,
    resultsChart(
      runs.flatMap((r) => r.results),
      note,
    ),
  );
  console.log(`Chart written to ${LATEST}`);
}

async function main() {
  const { values, positionals: wanted } = parseArgs({
    allowPositionals: true,
    options: { repeat: { type: 'string', default: '1' }, chart: { type: 'boolean' } },
  });
  if (values.chart) return redraw(wanted);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat takes a count >= 1');
  const all = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    // A file may export one benchmark or several (variants of one measure).
    .flatMap((f) => [].concat(require(join(__dirname, f))));
  // A name selects that benchmark, or every variant of it (`emit-http` runs emit-http-32 and -64).
  const picks = (bench, name) => bench.name === name || bench.name.startsWith(`${name}-`);
  const unknown = wanted.filter((name) => !all.some((b) => picks(b, name)));
  if (unknown.length) {
    throw new Error(
      `unknown benchmark(s) ${unknown.join(', ')}; known: ${all.map((b) => b.name).join(', ')}`,
    );
  }
  const selected = wanted.length ? all.filter((b) => wanted.some((name) => picks(b, name))) : all;
  const results = [];
  const loadBefore = load();
  const date = new Date().toISOString();
  for (let run = 1; run <= repeat; run++) {
    for (const bench of selected) {
      process.stderr.write(`running ${bench.name}${repeat > 1 ? ` (${run}/${repeat})` : ''}...\n`);
      const started = Date.now();
      const common = { name: bench.name, title: bench.title, goal: bench.goal, load: load() };
      try {
        results.push({
          ...common,
          ...(await bench.run()),
          seconds: (Date.now() - started) / 1000,
        });
      } catch (error) {
        results.push({ ...common, error: error.stack });
      }
    }
  }
  const loadAfter = load();
  const machine = `${os.cpus()[0].model}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
  const rows = [['benchmark', 'ours', 'baseline', 'limit', 'ratio', 'goal', 'met']];
  for (const r of results) {
    if (r.error) {
      rows.push([r.name, 'ERROR', '', '', '', r.goal, 'no']);
      continue;
    }
    rows.push([
      r.name,
      format(r.ours.value, r.ours.unit),
      format(r.baseline.value, r.baseline.unit),
      r.limit ? format(r.limit.value, r.limit.unit) : '',
      r.difference ? `${r.ratio.toFixed(2)} (${r.difference})` : r.ratio.toFixed(2),
      r.goal,
      r.met ? 'yes' : 'no',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const line = (row) =>
    '| ' + row.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ') + ' |';
  console.log(`Machine: ${machine}`);
  console.log(line(rows[0]));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const row of rows.slice(1)) console.log(line(row));
  for (const r of results) if (r.error) console.error(`\n${r.name} failed:\n${r.error}`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, date.replace(/[:.]/g, '-'));
  const file = `${stem}.json`;
  writeFileSync(
    file,
    JSON.stringify({ machine, date, loadBefore, loadAfter, repeat, results }, null, 2),
  );
  const command = `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim();
  const note = [
    machine,
    `${date.slice(0, 16)}Z, load average (1/5/15 min) ${loadBefore} -> ${loadAfter}; ${command}`,
  ];
  writeFileSync(`${stem}.svg`, resultsChart(results, note));
  console.log(`\nResults written to ${file}, chart to ${stem}.svg`);
  if (!wanted.length) {
    mkdirSync(join(__dirname, 'charts'), { recursive: true });
    copyFileSync(`${stem}.svg`, LATEST);
    console.log(`Chart copied to ${LATEST}`);
  }
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
