// The chart of `npm run bench`'s results: one bar per benchmark, its ratio to its baseline, its
// goal marked where the goal is itself a ratio, the range of its runs where it ran several times.
// The drawing is bench/curves/svg-plot.js's; this file only turns results into bars.
const { barPlot } = require('./curves/svg-plot');
const { median } = require('./harness');

/**
 * The ratio a goal's text sets, if it sets one: "ratio >= 0.8", ">= 2x emittery", "flat within
 * 1.5x". Other goals (a p99 in ms, bytes per subscription) are shown in words only.
 * @param {string | undefined} goal a benchmark's `goal`
 * @returns {{ op: '>=' | '<=', value: number } | undefined}
 * @example
 * ratioGoal('ratio >= 0.9, journaled emit p99 <= 2 ms'); // { op: '>=', value: 0.9 }
 */
function ratioGoal(goal) {
  const text = String(goal ?? '');
  const found =
    /\bratio\s*(>=|<=)\s*(\d+(?:\.\d+)?)/.exec(text) ??
    /^\s*(>=|<=)\s*(\d+(?:\.\d+)?)x\b/.exec(text);
  if (found) return { op: found[1], value: Number(found[2]) };
  const within = /\bwithin\s+(\d+(?:\.\d+)?)x\b/.exec(text);
  return within ? { op: '<=', value: Number(within[1]) } : undefined;
}

/** One bar from every result of one benchmark (one per run), in words and figures. */
function barOf(name, results) {
  const measured = results.filter((r) => !r.error && Number.isFinite(r.ratio));
  const runs = measured.map((r) => r.ratio);
  const met = measured.filter((r) => r.met).length;
  const verdict =
    measured.length === 0
      ? 'none'
      : met === measured.length
        ? 'met'
        : met === 0
          ? 'missed'
          : 'mixed';
  const errors = results.length - measured.length;
  const { goal } = results[0];
  return {
    label: name,
    ...(runs.length ? { value: median(runs), runs } : {}),
    ...(runs.length && errors ? { valueText: `${median(runs).toFixed(2)}, ${errors} failed` } : {}),
    goal: ratioGoal(goal),
    goalText: goal ?? '',
    verdict,
  };
}

/**
 * The SVG text of the chart of one or more runs' results (bench/results/<date>.json's `results`,
 * concatenated): the results of one benchmark name make one bar, in the order first seen.
 * @param {{ name: string, goal?: string, ratio?: number, met?: boolean, error?: string }[]} results
 * @param {string[]} [note] lines under the title: machine, date, load, command
 * @returns {string}
 * @example
 * writeFileSync('bench/charts/latest.svg', resultsChart(JSON.parse(text).results, [machine]));
 */
function resultsChart(results, note = []) {
  const names = [...new Set(results.map((r) => r.name))];
  return barPlot({
    title: 'npm run bench: each benchmark against its baseline, same run',
    xLabel: 'ours / baseline (log scale); throughputs: higher is better; times, bytes: lower',
    note,
    bars: names.map((name) =>
      barOf(
        name,
        results.filter((r) => r.name === name),
      ),
    ),
  });
}

module.exports = { resultsChart, ratioGoal };
