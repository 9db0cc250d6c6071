// Small hand-written SVG plots, written by the benchmarks themselves (no dependency): the cost
// curves' line plots (log-scale x, linear y from 0, labelled series, an optional dashed goal line)
// and `npm run bench`'s ratio bars (one bar per benchmark against its baseline, its goal marked).
// Every plot opens with <title> and <desc> so that a screen reader says what it shows.

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

/** The opening of a plot: size, white background, and the <title>/<desc> it is announced by. */
function svgOpen(width, height, title, desc) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img" aria-labelledby="plot-title plot-desc">`,
    `<title id="plot-title">${xmlEscape(title)}</title>`,
    `<desc id="plot-desc">${xmlEscape(desc)}</desc>`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
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
  const desc = `${yLabel} by ${xLabel}: ${series
    .map((s) => `${s.name} ${s.points.map(([x, y]) => `${short(x)} -> ${short(y)}`).join(', ')}`)
    .join('; ')}${goal ? `; ${goal.label}` : ''}.`;
  const out = [
    ...svgOpen(WIDTH, HEIGHT, title, desc),
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

// The bar chart's columns, left to right: labels (sized to the longest), the plot, the value, the goal.
const BARS = { row: 22, head: 72, bottom: 50, plot: 320, value: 175, goal: 300, right: 8 };
/** An 11 px sans-serif character's width, generously: columns sized by it never overlap. */
const CHAR = 6.6;
/** Verdict colours, dark enough for 4.5:1 contrast on white (text and bars alike). */
const VERDICTS = {
  met: { color: '#1a7f37', text: 'met' },
  missed: { color: '#c62828', text: 'not met' },
  mixed: { color: '#b35900', text: 'met in some runs' },
  none: { color: '#666666', text: 'not measured' },
};

/** Ticks of a log axis over [lo, hi]: 1-2-5 over two decades or less, else powers of ten. */
function logTicks(lo, hi) {
  const ticks = [];
  const factors = Math.log10(hi / lo) > 2.5 ? [1] : [1, 2, 5];
  for (let p = Math.floor(Math.log10(lo)); p <= Math.ceil(Math.log10(hi)); p++) {
    for (const f of factors) {
      const tick = +(f * 10 ** p).toPrecision(3);
      if (tick >= lo && tick <= hi) ticks.push(tick);
    }
  }
  return ticks;
}

/** `text` cut to `chars` characters, with an ellipsis when cut (the whole text is in a tooltip). */
function fit(text, chars) {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

/**
 * The SVG text of a horizontal bar chart of ratios, log scale: each bar is drawn from 1 (the
 * baseline) to its value, coloured by its verdict; a bar measured several times shows its runs as
 * dots and their range as a whisker; a goal that is itself a ratio is a black tick with an arrow
 * toward the side that meets it. Columns beside the plot give each value and its goal in words,
 * so that nothing is read off the colours alone.
 * @param {object} plot
 * @param {string} plot.title
 * @param {string} plot.xLabel
 * @param {{ label: string, value?: number, runs?: number[], goal?: { op: '>=' | '<=', value: number },
 *   goalText?: string, verdict: 'met' | 'missed' | 'mixed' | 'none', valueText?: string }[]} plot.bars
 *   `value` missing: not measured (the row says so)
 * @param {string[]} [plot.note] lines under the title (machine, date, load)
 * @param {string} [plot.desc] what a screen reader is told (default: every bar in words)
 * @example
 * barPlot({ title: 'ratios', xLabel: 'ours / baseline', bars: [{ label: 'emit-local', value: 1.6, goal: { op: '>=', value: 2 }, verdict: 'missed' }] });
 */
function barPlot({ title, xLabel, bars, note = [], desc }) {
  const labelW = Math.min(
    280,
    Math.max(90, Math.max(...bars.map((b) => b.label.length)) * CHAR + 16),
  );
  const labelChars = Math.floor((labelW - 16) / CHAR + 1e-9);
  // Below the title: the note's lines, the legend, the column headers, then the rows.
  const top = 40 + note.length * 12 + BARS.head - 20;
  const x0 = labelW;
  const valueX = x0 + BARS.plot + 10;
  const goalX = valueX + BARS.value;
  const width = goalX + BARS.goal + BARS.right;
  const height = top + bars.length * BARS.row + BARS.bottom;
  const drawn = (v) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  const values = [
    1,
    ...bars.flatMap((b) => [b.value, ...(b.runs ?? []), b.goal?.value]).filter(drawn),
  ];
  const [lo, hi] = [Math.min(...values) / 1.3, Math.max(...values) * 1.3];
  const round = (v) => Math.round(v * 10) / 10;
  const px = (v) =>
    round(x0 + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * BARS.plot);
  const bottom = top + bars.length * BARS.row;
  const valueText = (b) => {
    if (b.valueText) return b.valueText;
    if (!drawn(b.value)) return 'not measured';
    const runs = (b.runs ?? []).filter(drawn);
    if (runs.length < 2) return b.value.toFixed(2);
    return `${b.value.toFixed(2)} (${Math.min(...runs).toFixed(2)}–${Math.max(...runs).toFixed(2)}, ${runs.length} runs)`;
  };
  const goalWords = (b) => b.goalText || (b.goal ? `ratio ${b.goal.op} ${b.goal.value}` : '');
  const spoken = (b) =>
    `${b.label}: ${valueText(b)}${goalWords(b) ? `, goal ${goalWords(b)}` : ''}, ${VERDICTS[b.verdict].text}`;
  const out = [
    ...svgOpen(width, height, title, desc ?? `${xLabel}. ${bars.map(spoken).join('; ')}.`),
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${xmlEscape(title)}</text>`,
  ];
  note.forEach((line, i) =>
    out.push(
      `<text x="8" y="${34 + i * 12}" fill="#555" font-size="10">${xmlEscape(fit(line, Math.floor(width / 5.6)))}</text>`,
    ),
  );
  // Legend: one line, each item placed after the previous one's text.
  let lx = 8;
  const ly = top - 34;
  for (const v of Object.values(VERDICTS)) {
    out.push(
      `<rect x="${lx}" y="${ly - 8}" width="12" height="10" fill="${v.color}"/>`,
      `<text x="${lx + 16}" y="${ly + 1}">${v.text}</text>`,
    );
    lx += 16 + v.text.length * 6 + 14;
  }
  out.push(
    `<line x1="${lx + 4}" x2="${lx + 4}" y1="${ly - 10}" y2="${ly + 3}" stroke="black" stroke-width="2"/>`,
    `<polygon points="${lx + 4},${ly - 10} ${lx + 10},${ly - 7} ${lx + 4},${ly - 4}" fill="black"/>`,
    `<text x="${lx + 14}" y="${ly + 1}">goal (arrow: the side that meets it)</text>`,
  );
  lx += 14 + 36 * 6 + 14;
  out.push(
    `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 3}" y2="${ly - 3}" stroke="#222"/>`,
    `<circle cx="${lx + 4}" cy="${ly - 3}" r="2.5" fill="white" stroke="#222"/>`,
    `<circle cx="${lx + 20}" cy="${ly - 3}" r="2.5" fill="white" stroke="#222"/>`,
    `<text x="${lx + 30}" y="${ly + 1}">runs and their range</text>`,
  );
  // Column headers; the baseline's label sits on the side of its line that has room.
  const headY = top - 8;
  const one = px(1);
  const oneLeft = one - x0 > BARS.plot / 2;
  out.push(
    `<text x="${x0 - 8}" y="${headY}" text-anchor="end" font-weight="bold">benchmark</text>`,
    `<text x="${oneLeft ? one - 4 : one + 4}" y="${headY}" text-anchor="${oneLeft ? 'end' : 'start'}" font-weight="bold">1 = baseline</text>`,
    `<text x="${valueX}" y="${headY}" font-weight="bold">ratio</text>`,
    `<text x="${goalX}" y="${headY}" font-weight="bold">verdict: goal</text>`,
  );
  // Stripes, then the axis (1-2-5 ticks, the baseline's line darker), under the bars.
  bars.forEach((_, i) => {
    if (i % 2 === 0) {
      const y = top + i * BARS.row;
      out.push(`<rect x="0" y="${y}" width="${width}" height="${BARS.row}" fill="#f4f4f4"/>`);
    }
  });
  for (const t of logTicks(lo, hi)) {
    out.push(
      `<line x1="${px(t)}" x2="${px(t)}" y1="${top}" y2="${bottom}" stroke="${t === 1 ? '#333' : '#ccc'}"${t === 1 ? '' : ' stroke-dasharray="2 2"'}/>`,
      `<text x="${px(t)}" y="${bottom + 14}" text-anchor="middle">${short(t)}</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * BARS.row;
    const mid = y + BARS.row / 2;
    const color = VERDICTS[b.verdict].color;
    out.push(`<g><title>${xmlEscape(spoken(b))}</title>`);
    out.push(
      `<text x="${x0 - 8}" y="${mid + 4}" text-anchor="end">${xmlEscape(fit(b.label, labelChars))}</text>`,
    );
    if (drawn(b.value)) {
      const [a, z] = [Math.min(one, px(b.value)), Math.max(one, px(b.value))];
      out.push(
        `<rect class="bar" x="${a}" y="${y + 5}" width="${round(Math.max(1, z - a))}" height="${BARS.row - 10}" fill="${color}"/>`,
      );
    } else {
      out.push(
        `<text x="${x0 + 6}" y="${mid + 4}" fill="#666" font-style="italic">not measured: see the run's errors</text>`,
      );
    }
    const runs = (b.runs ?? []).filter(drawn);
    if (runs.length > 1) {
      const [rl, rh] = [px(Math.min(...runs)), px(Math.max(...runs))];
      out.push(
        `<line x1="${rl}" x2="${rh}" y1="${mid}" y2="${mid}" stroke="#222"/>`,
        ...runs.map(
          (r) => `<circle cx="${px(r)}" cy="${mid}" r="2.5" fill="white" stroke="#222"/>`,
        ),
      );
    }
    // Where nothing was measured the row's text says so, and the goal stays in words only.
    if (b.goal && drawn(b.goal.value) && drawn(b.value)) {
      const g = px(b.goal.value);
      const tip = b.goal.op === '>=' ? g + 6 : g - 6;
      out.push(
        `<line class="goal" x1="${g}" x2="${g}" y1="${y + 2}" y2="${y + BARS.row - 2}" stroke="black" stroke-width="2"/>`,
        `<polygon points="${g},${y + 2} ${tip},${y + 5} ${g},${y + 8}" fill="black"/>`,
      );
    }
    const verdict = VERDICTS[b.verdict].text;
    const goal = goalWords(b);
    out.push(
      `<text x="${valueX}" y="${mid + 4}">${xmlEscape(fit(valueText(b), Math.floor((BARS.value - 8) / CHAR)))}</text>`,
      `<text x="${goalX}" y="${mid + 4}" fill="${color}">${xmlEscape(fit(goal ? `${verdict}: ${goal}` : verdict, Math.floor((BARS.goal - 4) / CHAR)))}</text>`,
      `</g>`,
    );
  });
  out.push(
    `<rect x="${x0}" y="${top}" width="${BARS.plot}" height="${bottom - top}" fill="none" stroke="#333"/>`,
    `<text x="${x0 + BARS.plot / 2}" y="${bottom + 32}" text-anchor="middle">${xmlEscape(xLabel)}</text>`,
    '</svg>',
  );
  return out.join('\n') + '\n';
}

module.exports = { linePlot, barPlot };
