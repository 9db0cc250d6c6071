// `npm run bench [name ...]`: runs the benchmarks (all, or those named), prints one table, and
// writes the results as JSON into bench/results/.
const { mkdirSync, readdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { format } = require('./harness');

async function main() {
  // Tracing on for every gateway of this run (see bench/tracing-setup.js).
  const tracing = process.env.BENCH_TRACING || undefined;
  if (tracing) require('./tracing-setup');
  const wanted = process.argv.slice(2);
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
  for (const bench of selected) {
    process.stderr.write(`running ${bench.name}...\n`);
    const started = Date.now();
    try {
      results.push({
        name: bench.name,
        title: bench.title,
        goal: bench.goal,
        ...(await bench.run()),
        seconds: (Date.now() - started) / 1000,
      });
    } catch (error) {
      results.push({ name: bench.name, title: bench.title, goal: bench.goal, error: error.stack });
    }
  }
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
  console.log(`Machine: ${machine}${tracing ? `; tracing on (${tracing})` : ''}`);
  console.log(line(rows[0]));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const row of rows.slice(1)) console.log(line(row));
  for (const r of results) if (r.error) console.error(`\n${r.name} failed:\n${r.error}`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ machine, date: new Date().toISOString(), tracing, results }, null, 2),
  );
  console.log(`\nResults written to ${file}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
