// The chart `npm run bench` writes beside its results (bench/results-chart.js drawing with
// bench/curves/svg-plot.js): well-formed XML a screen reader can name, one bar per benchmark
// however many times it ran, a goal marker exactly where a goal is a ratio, on the right side of
// the baseline.

interface Result {
  name: string;
  goal?: string;
  ratio?: number;
  met?: boolean;
  error?: string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { resultsChart, ratioGoal } = require('../../bench/results-chart') as {
  resultsChart: (results: Result[], note?: string[]) => string;
  ratioGoal: (goal?: string) => { op: string; value: number } | undefined;
};

interface Element {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: Element[];
}

const ENTITY = /&(?!(?:amp|lt|gt|quot|apos);)/;
const TAG = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;

/** A strict reader of the XML subset the writer uses: throws on anything not well-formed. */
function parseXml(text: string): Element {
  const stack: Element[] = [];
  let root: Element | undefined;
  let at = 0;
  while (at < text.length) {
    const lt = text.indexOf('<', at);
    const chunk = text.slice(at, lt === -1 ? text.length : lt);
    if (ENTITY.test(chunk)) throw new Error(`a bare & in text: ${chunk}`);
    if (chunk.trim() && stack.length === 0) throw new Error(`text outside the root: ${chunk}`);
    if (stack.length) stack[stack.length - 1].text += chunk;
    if (lt === -1) break;
    TAG.lastIndex = lt;
    const tag = TAG.exec(text);
    if (!tag) throw new Error(`not a tag at ${lt}: ${text.slice(lt, lt + 80)}`);
    const [whole, closing, name, rawAttributes, selfClosing] = tag;
    at = lt + whole.length;
    if (closing) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const [, key, value] of rawAttributes.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
      if (key in attributes) throw new Error(`attribute ${key} twice on <${name}>`);
      if (ENTITY.test(value)) throw new Error(`a bare & in ${key}="${value}"`);
      attributes[key] = value;
    }
    const element: Element = { name, attributes, text: '', children: [] };
    if (stack.length) stack[stack.length - 1].children.push(element);
    else if (root) throw new Error('a second root element');
    else root = element;
    if (!selfClosing) stack.push(element);
  }
  if (stack.length || !root) throw new Error(`unclosed: ${stack.map((e) => e.name).join(' > ')}`);
  return root;
}

const all = (e: Element): Element[] => [e, ...e.children.flatMap(all)];
const byClass = (root: Element, name: string) =>
  all(root).filter((e) => e.attributes.class === name);

const RESULTS: Result[] = [
  { name: 'emit-local', goal: '>= 2x emittery', ratio: 1.6, met: false },
  { name: 'emit-local', goal: '>= 2x emittery', ratio: 2.2, met: true },
  { name: 'emit-local', goal: '>= 2x emittery', ratio: 1.4, met: false },
  { name: 'source-sqs', goal: 'ratio >= 0.8', ratio: 0.5, met: false },
  {
    name: 'routing-curve',
    goal: 'each kind flat within 1.5x from 1k to 1M',
    ratio: 1.1,
    met: true,
  },
  { name: 'latency', goal: 'p99 overhead < 0.2 ms', ratio: 1.03, met: true },
  { name: 'memory', goal: '< 1 KiB per subscription & <40 MiB "idle"', ratio: 0.2, met: true },
  { name: 'source-amqp', goal: 'ratio >= 0.8', error: 'Error: rabbitmq-server is missing' },
];

test('the chart is well-formed XML with a <title> and <desc> that name every benchmark', () => {
  const svg = parseXml(resultsChart(RESULTS, ['AMD EPYC <2 cores> & 24 GiB']));
  expect(svg.name).toBe('svg');
  expect(svg.attributes.role).toBe('img');
  const [title, desc] = svg.children;
  expect(title).toMatchObject({ name: 'title' });
  expect(desc).toMatchObject({ name: 'desc' });
  expect(svg.attributes['aria-labelledby']).toBe(`${title.attributes.id} ${desc.attributes.id}`);
  for (const name of new Set(RESULTS.map((r) => r.name))) expect(desc.text).toContain(name);
  expect(desc.text).toContain('emit-local: 1.60 (1.40–2.20, 3 runs), goal &gt;= 2x emittery');
  expect(desc.text).toContain('source-amqp: not measured');
});

test('one bar per measured benchmark, whatever the runs; the runs of one are its range', () => {
  const svg = parseXml(resultsChart(RESULTS));
  const bars = byClass(svg, 'bar');
  expect(bars).toHaveLength(5); // source-amqp failed: no bar, its row says so
  const rows = svg.children.filter((e) => e.name === 'g');
  expect(rows.map((g) => g.children[0].text.split(':')[0])).toEqual([
    'emit-local',
    'source-sqs',
    'routing-curve',
    'latency',
    'memory',
    'source-amqp',
  ]);
  expect(rows[0].children.filter((e) => e.name === 'circle')).toHaveLength(3);
  expect(rows[1].children.filter((e) => e.name === 'circle')).toHaveLength(0);
  expect(all(rows[5]).some((e) => e.text.includes('not measured'))).toBe(true);
});

test('goal markers: one per measured benchmark whose goal is a ratio, on the side its goal says', () => {
  const svg = parseXml(resultsChart(RESULTS));
  const rows = svg.children.filter((e) => e.name === 'g');
  const goalX = (row: Element) => {
    const marks = row.children.filter((e) => e.attributes.class === 'goal');
    return marks.length ? Number(marks[0].attributes.x1) : undefined;
  };
  const [emit, sqs, curve, latency, memory, amqp] = rows.map(goalX);
  expect(byClass(svg, 'goal')).toHaveLength(3);
  expect([latency, memory, amqp]).toEqual([undefined, undefined, undefined]);
  // The baseline's line: the bar of a ratio above 1 starts there.
  const baseline = Number(byClass(rows[0], 'bar')[0].attributes.x);
  const bar = byClass(rows[1], 'bar')[0];
  expect(Number(bar.attributes.x) + Number(bar.attributes.width)).toBeCloseTo(baseline, 0);
  expect(emit).toBeGreaterThan(baseline);
  expect(curve).toBeGreaterThan(baseline);
  expect(sqs).toBeLessThan(baseline);
  expect(sqs).toBeGreaterThan(Number(bar.attributes.x)); // 0.8 sits between 0.5 and 1
  expect(curve).toBeLessThan(emit as number);
});

test('ratioGoal reads the goals the benchmarks state as ratios, and only those', () => {
  expect(ratioGoal('ratio >= 0.8')).toEqual({ op: '>=', value: 0.8 });
  expect(ratioGoal('>= 2x emittery')).toEqual({ op: '>=', value: 2 });
  expect(ratioGoal('ratio >= 3.5, p99 at half of BullMQ max <= 0.1x')).toEqual({
    op: '>=',
    value: 3.5,
  });
  expect(ratioGoal('each kind flat within 1.5x from 1k to 1M')).toEqual({ op: '<=', value: 1.5 });
  for (const goal of ['p99 within 1 ms of raw', 'within 25 ms of eventemitter3', 'report']) {
    expect(ratioGoal(goal)).toBeUndefined();
  }
  expect(ratioGoal(undefined)).toBeUndefined();
});
