// The matcher as it was before the data-driven program (lib/model/pattern-program.ts): a tree of
// closures per pattern. Kept only as the oracle of __tests__/unit/pattern-program.property.test.ts.
import { ValidationError } from '../../lib/errors';
import { showValue } from '../../lib/model/describe-error';
import { comparedSteps, MatchBudget } from '../../lib/model/match-budget';
import { hasPrefix, hasSuffix, Wildcard } from '../../lib/model/wildcard';

/**
 * A subscription filter: an EventBridge-style pattern over the CloudEvent (its attributes,
 * extensions and `data`). Each key names a field (nested objects name nested fields); each leaf is
 * an array of values or operators, any of which may match (OR), and every field must match (AND).
 * `$or` takes an array of patterns, one of which must match.
 *
 * @example
 * ```ts
 * { source: [{ prefix: '/shop/' }], data: { amount: [{ numeric: ['>=', 100] }], country: ['FR', 'DE'] } }
 * ```
 */
export type EventPattern = { readonly [field: string]: unknown };

/** Why a compiled pattern did not match an event: the first field and operator that failed. */
export interface PatternMiss {
  /** The field, as a dotted path (`data.amount`), or `$or` when no branch matched. */
  readonly field: string;
  /** The operators of that field, as written (`numeric`, `prefix`, `exact`...). */
  readonly operator: string;
}

/** A pattern checked and compiled once: matching reads the event, never the pattern's JSON. */
export interface CompiledPattern {
  /** Whether the event matches; spends from `budget` (none: no limit, for the host's own use). */
  matches(event: Readonly<Record<string, unknown>>, budget?: MatchBudget): boolean;
  /** The first field that failed, or undefined when the event matches. */
  explain(event: Readonly<Record<string, unknown>>, budget?: MatchBudget): PatternMiss | undefined;
}

/** Most matchers (values and operators) in one pattern, `$or` branches included. */
export const MAX_PATTERN_MATCHERS = 100;
/** Deepest nesting of fields in a pattern. */
const MAX_DEPTH = 10;
/** Most `*` in one wildcard. */
const MAX_WILDCARDS = 5;

type Value = unknown;
/** Tests one present, non-array value. Only a test whose cost grows with the value spends itself. */
type Test = (value: Value, budget: MatchBudget) => boolean;

interface Matcher {
  readonly operator: string;
  readonly test: Test;
  /** `exists: false` matches a missing field; nothing else does. */
  readonly matchesMissing: boolean;
  /** Steps one test costs beyond the first when the value is a string (the pattern's text). */
  readonly textSteps: number;
}

interface FieldRule {
  readonly path: readonly string[];
  readonly matchers: readonly Matcher[];
  /** The lookup and every test of one value that is a string / that is not. */
  readonly stringSteps: number;
  readonly otherSteps: number;
}

interface Node {
  readonly fields: readonly FieldRule[];
  /** Each `$or`: one of its branches must match. */
  readonly ors: readonly (readonly Node[])[];
}

const NUMERIC_OPS = new Set(['<', '<=', '=', '>', '>=']);

/** Checks and compiles a pattern; throws ValidationError naming the offending field. */
export function compilePattern(pattern: unknown, name = 'filter'): CompiledPattern {
  const budget = { matchers: 0 };
  const root = compileNode(pattern, [], [], name, budget, 0);
  return {
    matches: (event, work = new MatchBudget(Infinity)) => matchNode(root, event, work),
    explain: (event, work = new MatchBudget(Infinity)) => explainNode(root, event, work),
  };
}

function fail(name: string, path: readonly string[], problem: string): never {
  const where = [name, ...path].join('.');
  throw new ValidationError(
    `Subscription doesn't validate. Validation error: "${where}" ${problem}.`,
    {
      resource: 'subscription',
    },
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `path`: where the fields are in the event; `label`: where they are in the pattern (messages). */
function compileNode(
  pattern: unknown,
  path: string[],
  label: string[],
  name: string,
  budget: { matchers: number },
  depth: number,
): Node {
  if (!isPlainObject(pattern)) fail(name, label, 'must be an object of fields');
  if (depth > MAX_DEPTH) fail(name, label, `nests deeper than ${MAX_DEPTH} levels`);
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(name, label, 'must name at least one field');
  const fields: FieldRule[] = [];
  const ors: (readonly Node[])[] = [];
  for (const key of keys) {
    const value = pattern[key];
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) {
        fail(name, [...label, key], 'must be an array of at least two patterns');
      }
      ors.push(
        value.map((branch, i) =>
          compileNode(branch, path, [...label, `$or[${i}]`], name, budget, depth + 1),
        ),
      );
    } else if (Array.isArray(value)) {
      if (value.length === 0)
        fail(name, [...label, key], 'must list at least one value or operator');
      // Counted before anything is built. Values listed inside `anything-but` count too: each
      // costs memory for every subscription.
      budget.matchers += value.reduce<number>((n, item) => n + Math.max(1, listedValues(item)), 0);
      if (budget.matchers > MAX_PATTERN_MATCHERS) {
        fail(
          name,
          [...label, key],
          `takes the pattern past ${MAX_PATTERN_MATCHERS} values and operators`,
        );
      }
      const matchers = value.map((item) => compileMatcher(item, [...label, key], name));
      fields.push(fieldRule([...path, key], matchers));
    } else if (isPlainObject(value)) {
      const nested = compileNode(value, [...path, key], [...label, key], name, budget, depth + 1);
      fields.push(...nested.fields);
      ors.push(...nested.ors);
    } else {
      fail(
        name,
        [...label, key],
        `must be an array of values or operators, got ${showValue(value)}`,
      );
    }
  }
  return { fields, ors };
}

function fieldRule(path: string[], matchers: Matcher[]): FieldRule {
  const tested = matchers.filter((m) => !m.matchesMissing);
  return {
    path,
    matchers,
    stringSteps: tested.reduce((n, m) => n + 1 + m.textSteps, 1),
    otherSteps: 1 + tested.length,
  };
}

/** How many values an `anything-but` list names (0 for anything else). */
function listedValues(item: unknown): number {
  const list = isPlainObject(item) ? item['anything-but'] : undefined;
  return Array.isArray(list) ? list.length : 0;
}

function compileMatcher(item: unknown, path: string[], name: string): Matcher {
  if (item === null || typeof item === 'string' || typeof item === 'boolean') {
    const steps = typeof item === 'string' ? comparedSteps(item) : 0;
    return { operator: 'exact', test: (v) => v === item, matchesMissing: false, textSteps: steps };
  }
  if (typeof item === 'number') {
    if (!Number.isFinite(item)) fail(name, path, `cannot match ${item}`);
    return { operator: 'exact', test: (v) => v === item, matchesMissing: false, textSteps: 0 };
  }
  if (!isPlainObject(item) || Object.keys(item).length !== 1) {
    fail(name, path, `has ${showValue(item)}, which is neither a value nor one operator`);
  }
  const [operator] = Object.keys(item);
  const arg = item[operator];
  const matcher = (test: Test, steps = 0, matchesMissing = false): Matcher => ({
    operator,
    test,
    matchesMissing,
    textSteps: steps,
  });
  switch (operator) {
    case 'prefix': {
      const s = text(arg, operator, path, name);
      return matcher((v) => typeof v === 'string' && hasPrefix(v, s), comparedSteps(s));
    }
    case 'suffix': {
      const s = text(arg, operator, path, name);
      return matcher((v) => typeof v === 'string' && hasSuffix(v, s), comparedSteps(s));
    }
    case 'equals-ignore-case': {
      const s = text(arg, operator, path, name).toLowerCase();
      // Lowercasing never shortens a string (one character, İ, even grows): a longer value cannot
      // be equal, and is not lowercased. The work is bounded by the pattern's text, not the event's.
      return matcher(
        (v) => typeof v === 'string' && v.length <= s.length && v.toLowerCase() === s,
        comparedSteps(s),
      );
    }
    case 'wildcard': {
      const s = text(arg, operator, path, name);
      // A prefix and a suffix compared, each a call costlier than a value's test.
      return matcher(wildcard(s, path, name), 2 + comparedSteps(s));
    }
    case 'exists':
      if (typeof arg !== 'boolean') fail(name, path, '"exists" takes true or false');
      // A present field matches `exists: true`; a missing one only `exists: false`.
      return matcher(() => arg, 0, !arg);
    case 'numeric':
      return matcher(numeric(arg, path, name));
    case 'anything-but': {
      const affix = isPlainObject(arg) ? Object.values(arg)[0] : undefined;
      return matcher(
        anythingBut(arg, path, name),
        typeof affix === 'string' ? comparedSteps(affix) : 0,
      );
    }
    default:
      fail(name, path, `uses the unknown operator "${operator}"`);
  }
}

function text(arg: unknown, operator: string, path: string[], name: string): string {
  if (typeof arg !== 'string')
    fail(name, path, `"${operator}" takes a string, got ${showValue(arg)}`);
  return arg;
}

function wildcard(expression: string, path: string[], name: string): Test {
  if (expression.includes('**')) fail(name, path, '"wildcard" cannot have consecutive "*"');
  const glob = new Wildcard(expression);
  if (glob.parts.length - 1 > MAX_WILDCARDS) {
    fail(name, path, `"wildcard" takes at most ${MAX_WILDCARDS} "*"`);
  }
  if (!glob.scans) return (v) => typeof v === 'string' && glob.matches(v);
  // The one test whose cost grows with the value: the text between its first and last parts is
  // searched, and paid for first.
  return (v, budget) => typeof v === 'string' && glob.matches(v, budget);
}

function numeric(arg: unknown, path: string[], name: string): Test {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) {
    fail(name, path, '"numeric" takes [op, number] or [op, number, op, number]');
  }
  const checks: ((v: number) => boolean)[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const [op, bound] = [arg[i], arg[i + 1]];
    if (
      typeof op !== 'string' ||
      !NUMERIC_OPS.has(op) ||
      typeof bound !== 'number' ||
      !Number.isFinite(bound)
    ) {
      fail(
        name,
        path,
        `"numeric" has ${showValue(op)} ${showValue(bound)}; use <, <=, =, >, >= and a number`,
      );
    }
    checks.push(
      op === '<'
        ? (v) => (v as number) < bound
        : op === '<='
          ? (v) => (v as number) <= bound
          : op === '='
            ? (v) => v === bound
            : op === '>'
              ? (v) => (v as number) > bound
              : (v) => (v as number) >= bound,
    );
  }
  if (arg.length === 4 && (!/^>/.test(arg[0] as string) || !/^</.test(arg[2] as string))) {
    fail(
      name,
      path,
      '"numeric" with two conditions takes a lower bound (> or >=) then an upper one',
    );
  }
  // Numbers given as strings are not numbers: EventBridge does not match them either.
  const [first, second] = checks;
  return second
    ? (v) => typeof v === 'number' && first(v) && second(v)
    : (v) => typeof v === 'number' && first(v);
}

function anythingBut(arg: unknown, path: string[], name: string): Test {
  if (isPlainObject(arg)) {
    const [operator] = Object.keys(arg);
    if (Object.keys(arg).length !== 1 || (operator !== 'prefix' && operator !== 'suffix')) {
      fail(name, path, '"anything-but" takes a value, a list, {prefix} or {suffix}');
    }
    const s = text(arg[operator], `anything-but ${operator}`, path, name);
    return operator === 'prefix'
      ? (v) => typeof v === 'string' && !hasPrefix(v, s)
      : (v) => typeof v === 'string' && !hasSuffix(v, s);
  }
  const values = Array.isArray(arg) ? arg : [arg];
  if (
    values.length === 0 ||
    !values.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    fail(name, path, '"anything-but" takes strings or numbers');
  }
  const excluded = new Set(values);
  return (v) => (typeof v === 'string' || typeof v === 'number') && !excluded.has(v);
}

/** The value at a path, or undefined when any step is missing. */
function valueAt(event: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let value: unknown = event;
  for (const step of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, step))
      return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/**
 * Whether the field matches, spending as it goes: one value costs the lookup and all its tests,
 * paid at once (a few steps too many when an early one matches); an array, whose length is what
 * an event sender controls, a step (more for long strings) per element and matcher tested.
 */
function matchField(
  rule: FieldRule,
  event: Readonly<Record<string, unknown>>,
  budget: MatchBudget,
): boolean {
  const value = valueAt(event, rule.path);
  const { matchers } = rule;
  if (value === undefined) {
    budget.spend(1);
    for (let i = 0; i < matchers.length; i++) if (matchers[i].matchesMissing) return true;
    return false;
  }
  if (!Array.isArray(value)) {
    budget.spend(typeof value === 'string' ? rule.stringSteps : rule.otherSteps);
    for (let i = 0; i < matchers.length; i++) {
      const m = matchers[i];
      if (!m.matchesMissing && m.test(value, budget)) return true;
    }
    return false;
  }
  // An array matches when one of its elements does.
  budget.spend(1);
  for (let i = 0; i < matchers.length; i++) {
    const m = matchers[i];
    if (m.matchesMissing) continue;
    for (let j = 0; j < value.length; j++) {
      const element = value[j];
      budget.spend(typeof element === 'string' ? 1 + m.textSteps : 1);
      if (m.test(element, budget)) return true;
    }
  }
  return false;
}

/** Each node is visited once, however deep its `$or`s nest: the cost is its matchers'. */
function matchNode(
  node: Node,
  event: Readonly<Record<string, unknown>>,
  budget: MatchBudget,
): boolean {
  for (const rule of node.fields) if (!matchField(rule, event, budget)) return false;
  for (const branches of node.ors) {
    if (!branches.some((branch) => matchNode(branch, event, budget))) return false;
  }
  return true;
}

function explainNode(
  node: Node,
  event: Readonly<Record<string, unknown>>,
  budget: MatchBudget,
): PatternMiss | undefined {
  for (const rule of node.fields) {
    if (!matchField(rule, event, budget)) {
      return {
        field: rule.path.join('.'),
        operator: [...new Set(rule.matchers.map((m) => m.operator))].join('|'),
      };
    }
  }
  for (const branches of node.ors) {
    if (!branches.some((branch) => matchNode(branch, event, budget)))
      return { field: '$or', operator: '$or' };
  }
  return undefined;
}
