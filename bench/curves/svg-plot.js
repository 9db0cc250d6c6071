// A small hand-written SVG line plot for the cost curves: log-scale x, linear y from 0, labelled
// series, an optional dashed goal line. No dependency: the plots are written by the benchmark.

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { left: 70, right: 170, top: 58, bottom: 50 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

function xmlEscape(text) {
  return String(text).replace(
    /[&<>"]/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`,
  );
}

/** 1234 -> "1.2k", 1000000 -> "1M": short tick labels. */
function short(value) {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toPrecision(3)}k`;
  return `${+value.toPrecision(3)}`;
}

/** A "nice" step for about `count` ticks over [0, max]. */
function niceStep(max, count) {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const factor = [1, 2, 2.5, 5, 10].find((f) => f * power >= raw);
  return factor * power;
}

/**
 * The SVG text of a line plot.
 * @param {object} plot
 * @param {string} plot.title
 * @param {string} plot.xLabel
 * @param {string} plot.yLabel
 * @param {{ name: string, points: [number, number][] }[]} plot.series points as [x, y]; x > 0
 * @param {{ y: number, label: string }} [plot.goal] a dashed horizontal line
 * @param {string[]} [plot.note] lines under the title (machine, date, load)
 * @example
 * linePlot({ title: 'p99', xLabel: 'instances', yLabel: 'ms', series: [{ name: 'etcd', points: [[1, 3], [32, 20]] }] });
 */
function linePlot({ title, xLabel, yLabel, series, goal, note }) {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && Number.isFinite(y));
  const xs = all.map(([x]) => x);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const yTop = Math.max(...all.map(([, y]) => y), goal ? goal.y : 0) * 1.1 || 1;
  const step = niceStep(yTop, 5);
  const yMax = Math.ceil(yTop / step) * step;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const [lo, hi] = [Math.log10(xMin), Math.log10(xMax)];
  const round = (v) => Math.round(v * 10) / 10;
  const px = (x) =>
    round(MARGIN.left + (hi === lo ? plotW / 2 : ((Math.log10(x) - lo) / (hi - lo)) * plotW));
  const py = (y) => round(MARGIN.top + plotH - (y / yMax) * plotH);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2 - MARGIN.right / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${xmlEscape(title)}</text>`,
  ];
  (note ?? []).forEach((line, i) =>
    out.push(
      `<text x="${MARGIN.left}" y="${32 + i * 11}" fill="#666" font-size="9">${xmlEscape(line)}</text>`,
    ),
  );
  // y grid and ticks
  for (let y = 0; y <= yMax + step / 2; y += step) {
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${py(y) + 4}" text-anchor="end">${short(y)}</text>`,
    );
  }
  // x ticks: every distinct x value (the measured points)
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(
      `<line x1="${px(x)}" x2="${px(x)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`,
      `<text x="${px(x)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${short(x)}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${xmlEscape(xLabel)} (log scale)</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${xmlEscape(yLabel)}</text>`,
  );
  if (goal) {
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${py(goal.y)}" y2="${py(goal.y)}" stroke="#444" stroke-dasharray="6 4"/>`,
      `<text x="${MARGIN.left + plotW - 4}" y="${py(goal.y) - 4}" text-anchor="end" fill="#444">${xmlEscape(goal.label)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const points = s.points.filter(([x, y]) => x > 0 && Number.isFinite(y));
    const dash = s.dashed ? ' stroke-dasharray="3 3"' : '';
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
      ...points.map(
        ([x, y]) =>
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`,
      ),
      `<line x1="${WIDTH - MARGIN.right + 12}" x2="${WIDTH - MARGIN.right + 32}" y1="${MARGIN.top + 10 + i * 18}" y2="${MARGIN.top + 10 + i * 18}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${WIDTH - MARGIN.right + 36}" y="${MARGIN.top + 14 + i * 18}">${xmlEscape(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

module.exports = { linePlot };
