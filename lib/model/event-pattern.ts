import { ValidationError } from '../errors';
import { showValue } from '../model/describe-error';
import { comparedSteps, type MatchBudget } from './match-budget';
import {
  assemble,
  Kind,
  NUMERIC_CODES,
  type FieldSpec,
  type MatcherSpec,
  type NodeSpec,
  type PatternMiss,
  type PatternProgram,
} from './pattern-program';
import { Wildcard } from './wildcard';

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

export type { PatternMiss };

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

const NUMERIC_OPS = new Set(['<', '<=', '=', '>', '>=']);

/** Checks and compiles a pattern; throws ValidationError naming the offending field. */
export function compilePattern(pattern: unknown, name = 'filter'): CompiledPattern {
  return compileProgram(pattern, name);
}

/**
 * {@link compilePattern}, as the program itself (what PatternCache shares).
 *
 * @example
 * ```ts
 * const program = compileProgram(subscription.filter);
 * ```
 */
export function compileProgram(pattern: unknown, name = 'filter'): PatternProgram {
  const budget = { matchers: 0 };
  return assemble(compileNode(pattern, [], [], name, budget, 0), pattern);
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
): NodeSpec {
  if (!isPlainObject(pattern)) fail(name, label, 'must be an object of fields');
  if (depth > MAX_DEPTH) fail(name, label, `nests deeper than ${MAX_DEPTH} levels`);
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(name, label, 'must name at least one field');
  const fields: FieldSpec[] = [];
  const ors: (readonly NodeSpec[])[] = [];
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
      fields.push({ path: [...path, key], matchers });
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

/** How many values an `anything-but` list names (0 for anything else). */
function listedValues(item: unknown): number {
  const list = isPlainObject(item) ? item['anything-but'] : undefined;
  return Array.isArray(list) ? list.length : 0;
}

function compileMatcher(item: unknown, path: string[], name: string): MatcherSpec {
  if (item === null || typeof item === 'string' || typeof item === 'boolean') {
    const steps = typeof item === 'string' ? comparedSteps(item) : 0;
    return { kind: Kind.exact, textSteps: steps, args: [item] };
  }
  if (typeof item === 'number') {
    if (!Number.isFinite(item)) fail(name, path, `cannot match ${item}`);
    return { kind: Kind.exact, textSteps: 0, args: [item] };
  }
  if (!isPlainObject(item) || Object.keys(item).length !== 1) {
    fail(name, path, `has ${showValue(item)}, which is neither a value nor one operator`);
  }
  const [operator] = Object.keys(item);
  const arg = item[operator];
  const matcher = (kind: number, args: unknown[], textSteps = 0): MatcherSpec => ({
    kind,
    textSteps,
    args,
  });
  switch (operator) {
    case 'prefix': {
      const s = text(arg, operator, path, name);
      return matcher(Kind.prefix, [s], comparedSteps(s));
    }
    case 'suffix': {
      const s = text(arg, operator, path, name);
      return matcher(Kind.suffix, [s], comparedSteps(s));
    }
    case 'equals-ignore-case': {
      const s = text(arg, operator, path, name).toLowerCase();
      return matcher(Kind.equalsIgnoreCase, [s], comparedSteps(s));
    }
    case 'wildcard': {
      const s = text(arg, operator, path, name);
      const glob = wildcard(s, path, name);
      // A prefix and a suffix compared, each a call costlier than a value's test. A wildcard
      // with text between two `*` searches the value: the one test whose cost grows with the
      // value, paid for before the search.
      return matcher(glob.scans ? Kind.wildcardScan : Kind.wildcard, [glob], 2 + comparedSteps(s));
    }
    case 'exists':
      if (typeof arg !== 'boolean') fail(name, path, '"exists" takes true or false');
      // A present field matches `exists: true`; a missing one only `exists: false`.
      return matcher(arg ? Kind.existsTrue : Kind.existsFalse, []);
    case 'numeric':
      return { kind: Kind.numeric, textSteps: 0, ...numeric(arg, path, name) };
    case 'anything-but': {
      const affix = isPlainObject(arg) ? Object.values(arg)[0] : undefined;
      const [kind, args] = anythingBut(arg, path, name);
      return matcher(kind, args, typeof affix === 'string' ? comparedSteps(affix) : 0);
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

function wildcard(expression: string, path: string[], name: string): Wildcard {
  if (expression.includes('**')) fail(name, path, '"wildcard" cannot have consecutive "*"');
  const glob = new Wildcard(expression);
  if (glob.parts.length - 1 > MAX_WILDCARDS) {
    fail(name, path, `"wildcard" takes at most ${MAX_WILDCARDS} "*"`);
  }
  return glob;
}

/** The bounds of `[op, bound]` or `[op, bound, op, bound]`, and the ops as codes (NUMERIC_CODES). */
function numeric(
  arg: unknown,
  path: string[],
  name: string,
): { args: number[]; codes: [number, number] } {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) {
    fail(name, path, '"numeric" takes [op, number] or [op, number, op, number]');
  }
  const codes: [number, number] = [0, 0];
  const bounds: number[] = [0, 0];
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
    codes[i / 2] = NUMERIC_CODES[op];
    bounds[i / 2] = bound;
  }
  if (arg.length === 4 && (!/^>/.test(arg[0] as string) || !/^</.test(arg[2] as string))) {
    fail(
      name,
      path,
      '"numeric" with two conditions takes a lower bound (> or >=) then an upper one',
    );
  }
  return { args: bounds, codes };
}

function anythingBut(arg: unknown, path: string[], name: string): [number, unknown[]] {
  if (isPlainObject(arg)) {
    const [operator] = Object.keys(arg);
    if (Object.keys(arg).length !== 1 || (operator !== 'prefix' && operator !== 'suffix')) {
      fail(name, path, '"anything-but" takes a value, a list, {prefix} or {suffix}');
    }
    const s = text(arg[operator], `anything-but ${operator}`, path, name);
    return [operator === 'prefix' ? Kind.anythingButPrefix : Kind.anythingButSuffix, [s]];
  }
  const values = Array.isArray(arg) ? arg : [arg];
  if (
    values.length === 0 ||
    !values.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    fail(name, path, '"anything-but" takes strings or numbers');
  }
  // One value is compared (=== as the set's SameValueZero: NaN is refused above); a list, a set.
  return values.length === 1
    ? [Kind.anythingButValue, [values[0]]]
    : [Kind.anythingButSet, [new Set(values)]];
}
