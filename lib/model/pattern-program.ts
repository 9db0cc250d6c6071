import { MatchBudget } from './match-budget';
import { hasPrefix, hasSuffix, type Wildcard } from './wildcard';

/** Why a compiled pattern did not match an event: the first field and operator that failed. */
export interface PatternMiss {
  /** The field, as a dotted path (`data.amount`), or `$or` when no branch matched. */
  readonly field: string;
  /** The operators of that field, as written (`numeric`, `prefix`, `exact`...). */
  readonly operator: string;
}

/** What a matcher does with a value: one test per kind, in {@link testValue}. */
export const Kind = {
  exact: 0,
  prefix: 1,
  suffix: 2,
  equalsIgnoreCase: 3,
  wildcard: 4,
  /** A wildcard with text between two `*`: it searches the value, and pays first. */
  wildcardScan: 5,
  existsTrue: 6,
  existsFalse: 7,
  /** Its bounds as operands, `[bound, bound]`, its comparisons' codes in the shape. */
  numeric: 8,
  anythingButValue: 9,
  anythingButSet: 10,
  anythingButPrefix: 11,
  anythingButSuffix: 12,
} as const;

/** Comparison codes of `numeric`. */
export const NUMERIC_CODES: Readonly<Record<string, number>> = {
  '<': 1,
  '<=': 2,
  '=': 3,
  '>': 4,
  '>=': 5,
};

/** One value or operator of a field, as data: `args` are its operands. */
export interface MatcherSpec {
  /** The operator, as a {@link Kind}: its name, for `explain`, is that kind's. */
  readonly kind: number;
  /** Steps one test costs beyond the first when the value is a string (the pattern's text). */
  readonly textSteps: number;
  readonly args: readonly unknown[];
  /** `numeric`: both comparisons' codes (NUMERIC_CODES), the second 0 when there is one. */
  readonly codes?: readonly [number, number];
}

/** A field rule at compile time: where the field is, and its matchers. */
export interface FieldSpec {
  readonly path: readonly string[];
  readonly matchers: readonly MatcherSpec[];
}

/** A pattern's node at compile time: every field must match, and one branch of each `$or`. */
export interface NodeSpec {
  readonly fields: readonly FieldSpec[];
  readonly ors: readonly (readonly NodeSpec[])[];
}

/*
 * A program is a shape and its operands. The shape (structure as small integers, and the field
 * names) is what filters of the same structure have in common, and is shared between them
 * (PatternCache); the operands (values, texts, wildcards, bounds) are one array per filter.
 * Matching walks them with one loop and one switch, the same code for every pattern: with
 * thousands of distinct filters, a tree of closures per filter made the call sites megamorphic
 * and scattered each filter over some 40 heap objects; a program is one object and its operands,
 * read front to back, beside a shape that stays in cache.
 *
 *   node:    [end, fields, ors, field..., or...]
 *   field:   [end, pathLength, pathName, stringSteps, otherSteps, matchers, matcher...]
 *   matcher: [kind, textSteps, arg, codes]      (MATCHER_SLOTS; arg: its first operand;
 *                                                codes: numeric's, first + 8 * second)
 *   or:      [end, branches, node...]
 */
const MATCHER_SLOTS = 4;
/** Offset of a field's first matcher, from the field's start. */
const FIELD_HEAD = 6;

/**
 * How a pattern is read and tested, without its values: shared by every pattern of the same
 * structure (the same fields and operators in the same places), see PatternCache.
 *
 * @example
 * ```ts
 * const a = compileProgram({ subject: [{ 'anything-but': 'order-1' }] });
 * const b = compileProgram({ subject: [{ 'anything-but': 'order-2' }] });
 * a.shape.key() === b.shape.key(); // true: one shape serves both
 * ```
 */
export class PatternShape {
  /** Programs using it (PatternCache's count). */
  refs = 0;
  constructor(
    readonly ops: Uint8Array | Uint16Array | Int32Array,
    /** The fields' paths in the event, one after another. */
    readonly names: readonly string[],
  ) {}

  private text: string | undefined;

  /** Equal for equal shapes: what shapes are shared by. */
  key(): string {
    // A byte or 16-bit structure as characters (joining a typed array is slow).
    const { ops } = this;
    const structure =
      ops instanceof Int32Array
        ? ops.join(',')
        : `${ops.BYTES_PER_ELEMENT}${String.fromCharCode(...ops)}`;
    return (this.text ??= `${structure}|${JSON.stringify(this.names)}`);
  }
}

/**
 * Turns a checked node (compilePattern's work) into a program; `filter` is the filter it was
 * checked from, kept for PatternCache's equality.
 *
 * @example
 * ```ts
 * const program = assemble({
 *   fields: [{ path: ['source'], matchers: [{ kind: Kind.prefix, textSteps: 0, args: ['/shop/'] }] }],
 *   ors: [],
 * }, filter);
 * program.matches({ source: '/shop/eu' }); // true
 * ```
 */
export function assemble(root: NodeSpec, filter: unknown): PatternProgram {
  const ops: number[] = [];
  const names: string[] = [];
  const args: unknown[] = [];
  const node = (spec: NodeSpec): void => {
    const at = ops.push(0, spec.fields.length, spec.ors.length) - 3;
    for (const field of spec.fields) {
      const start = ops.push(0, field.path.length, names.length) - 3;
      names.push(...field.path);
      const tested = field.matchers.filter((m) => m.kind !== Kind.existsFalse);
      ops.push(
        tested.reduce((n, m) => n + 1 + m.textSteps, 1),
        1 + tested.length,
        field.matchers.length,
      );
      for (const m of field.matchers) {
        ops.push(m.kind, m.textSteps, args.length, m.codes ? m.codes[0] + 8 * m.codes[1] : 0);
        args.push(...m.args);
      }
      ops[start] = ops.length;
    }
    for (const branches of spec.ors) {
      const start = ops.push(0, branches.length) - 2;
      for (const branch of branches) node(branch);
      ops[start] = ops.length;
    }
    ops[at] = ops.length;
  };
  node(root);
  // The structure in the narrowest integers that hold it: a typical filter's fits in bytes. The
  // operands copied to their exact length (a pushed array keeps spare room).
  const widest = Math.max(...ops);
  const Narrowest = widest < 2 ** 8 ? Uint8Array : widest < 2 ** 16 ? Uint16Array : Int32Array;
  return new PatternProgram(new PatternShape(Narrowest.from(ops), names), args.slice(), filter);
}

/** The shape of a filter this version cannot read: one field no value matches, explained so. */
const UNREADABLE_SHAPE = new PatternShape(Uint8Array.from([9, 1, 0, 9, 1, 0, 1, 1, 0]), [
  '$filter',
]);

const OPERATORS = [
  'exact',
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'wildcard',
  'exists',
  'exists',
  'numeric',
  'anything-but',
  'anything-but',
  'anything-but',
  'anything-but',
];

/**
 * A compiled pattern: matching reads the event, the shape and the operands, never the pattern's
 * JSON. The work spent from a {@link MatchBudget} is, step for step, what the pattern's fields and
 * values cost (see MatchBudget): a field looked up, a value tested, more for long strings.
 *
 * @example
 * ```ts
 * const filter = compilePattern({ data: { amount: [{ numeric: ['>=', 100] }] } });
 * filter.matches(event, new MatchBudget(200_000)); // or throws FilterBudgetError
 * filter.explain(event); // { field: 'data.amount', operator: 'numeric' } when it fails
 * ```
 */
export class PatternProgram {
  /** Subscriptions using it (PatternCache's count). */
  refs = 0;

  constructor(
    /** How the operands are read and tested: replaced by an equal one when shapes are shared. */
    public shape: PatternShape,
    private readonly args: readonly unknown[],
    /** The filter it was compiled from (PatternCache compares it). */
    readonly filter: unknown,
  ) {}

  /**
   * What a stored filter this version cannot read compiles to: it matches nothing, and is
   * explained as `{ field: '$filter', operator: 'invalid' }`.
   *
   * @example
   * ```ts
   * PatternProgram.unreadable(filter).matches(event); // false
   * ```
   */
  static unreadable(filter: unknown): PatternProgram {
    return new PatternProgram(UNREADABLE_SHAPE, [], filter);
  }

  /** Whether the event matches; spends from `budget` (none: no limit, for the host's own use). */
  matches(event: Readonly<Record<string, unknown>>, budget?: MatchBudget): boolean {
    return this.matchNode(this.shape.ops, 0, event, budget ?? new MatchBudget(Infinity));
  }

  /** The first field that failed, or undefined when the event matches. */
  explain(event: Readonly<Record<string, unknown>>, budget?: MatchBudget): PatternMiss | undefined {
    const work = budget ?? new MatchBudget(Infinity);
    const { ops } = this.shape;
    let at = 3;
    for (let i = 0; i < ops[1]; i++, at = ops[at]) {
      if (!this.matchField(ops, at, event, work)) return this.miss(at);
    }
    for (let i = 0; i < ops[2]; i++, at = ops[at]) {
      if (!this.matchOr(ops, at, event, work)) return { field: '$or', operator: '$or' };
    }
    return undefined;
  }

  /** Each node is visited once, however deep its `$or`s nest: the cost is its matchers'. */
  private matchNode(
    ops: PatternShape['ops'],
    at: number,
    event: Readonly<Record<string, unknown>>,
    budget: MatchBudget,
  ): boolean {
    const fields = ops[at + 1];
    const ors = ops[at + 2];
    at += 3;
    for (let i = 0; i < fields; i++, at = ops[at]) {
      if (!this.matchField(ops, at, event, budget)) return false;
    }
    for (let i = 0; i < ors; i++, at = ops[at]) {
      if (!this.matchOr(ops, at, event, budget)) return false;
    }
    return true;
  }

  private matchOr(
    ops: PatternShape['ops'],
    at: number,
    event: Readonly<Record<string, unknown>>,
    budget: MatchBudget,
  ): boolean {
    const branches = ops[at + 1];
    let branch = at + 2;
    for (let i = 0; i < branches; i++, branch = ops[branch]) {
      if (this.matchNode(ops, branch, event, budget)) return true;
    }
    return false;
  }

  /**
   * Whether the field matches, spending as it goes: one value costs the lookup and all its tests,
   * paid at once (a few steps too many when an early one matches); an array, whose length is what
   * an event sender controls, a step (more for long strings) per element and matcher tested.
   */
  private matchField(
    ops: PatternShape['ops'],
    at: number,
    event: Readonly<Record<string, unknown>>,
    budget: MatchBudget,
  ): boolean {
    const { args } = this;
    const value = this.valueAt(ops, at, event);
    const count = ops[at + 5];
    const first = at + FIELD_HEAD;
    const end = first + count * MATCHER_SLOTS;
    if (value === undefined) {
      budget.spend(1);
      for (let m = first; m < end; m += MATCHER_SLOTS) {
        if (ops[m] === Kind.existsFalse) return true;
      }
      return false;
    }
    if (!Array.isArray(value)) {
      budget.spend(typeof value === 'string' ? ops[at + 3] : ops[at + 4]);
      for (let m = first; m < end; m += MATCHER_SLOTS) {
        if (testValue(ops[m], args, ops[m + 2], ops[m + 3], value, budget)) return true;
      }
      return false;
    }
    // An array matches when one of its elements does.
    budget.spend(1);
    for (let m = first; m < end; m += MATCHER_SLOTS) {
      const kind = ops[m];
      if (kind === Kind.existsFalse) continue;
      const arg = ops[m + 2];
      const codes = ops[m + 3];
      for (let j = 0; j < value.length; j++) {
        const element: unknown = value[j];
        budget.spend(typeof element === 'string' ? 1 + ops[m + 1] : 1);
        if (testValue(kind, args, arg, codes, element, budget)) return true;
      }
    }
    return false;
  }

  /**
   * The value at the field's path, or undefined when any step is missing or inherited. Read
   * first, asked about second: only a function (what objects and arrays inherit) or `__proto__`
   * can be inherited, so the costlier own-property check is made for those alone. Events are
   * plain data by then (parseCloudEvent copies them): no inherited getter runs.
   */
  private valueAt(
    ops: PatternShape['ops'],
    at: number,
    event: Readonly<Record<string, unknown>>,
  ): unknown {
    const { names } = this.shape;
    let value: unknown = event;
    for (let i = ops[at + 2], end = i + ops[at + 1]; i < end; i++) {
      if (typeof value !== 'object' || value === null) return undefined;
      const step = names[i];
      const next: unknown = (value as Record<string, unknown>)[step];
      if (next === undefined) return undefined;
      if ((typeof next === 'function' || step === '__proto__') && !Object.hasOwn(value, step))
        return undefined;
      value = next;
    }
    return value;
  }

  private miss(at: number): PatternMiss {
    const { ops, names } = this.shape;
    const from = ops[at + 2];
    const operators = new Set<string>();
    for (let m = at + FIELD_HEAD, n = 0; n < ops[at + 5]; n++, m += MATCHER_SLOTS) {
      operators.add(OPERATORS[ops[m]]);
    }
    return {
      field: names.slice(from, from + ops[at + 1]).join('.'),
      operator: operators.size ? [...operators].join('|') : 'invalid',
    };
  }
}

/**
 * Tests one present, non-array value against one matcher (`arg`: its first operand in `args`,
 * `codes`: numeric's). Only a test whose cost grows with the value (a scanning wildcard) spends
 * itself. `exists: false` never matches a present value.
 */
function testValue(
  kind: number,
  args: readonly unknown[],
  arg: number,
  codes: number,
  v: unknown,
  budget: MatchBudget,
): boolean {
  switch (kind) {
    case Kind.exact:
      return v === args[arg];
    case Kind.prefix:
      return typeof v === 'string' && hasPrefix(v, args[arg] as string);
    case Kind.suffix:
      return typeof v === 'string' && hasSuffix(v, args[arg] as string);
    case Kind.equalsIgnoreCase: {
      // Lowercasing never shortens a string (one character, İ, even grows): a longer value cannot
      // be equal, and is not lowercased. The work is bounded by the pattern's text, not the event's.
      const s = args[arg] as string;
      return typeof v === 'string' && v.length <= s.length && v.toLowerCase() === s;
    }
    case Kind.wildcard:
      return typeof v === 'string' && (args[arg] as Wildcard).matches(v);
    case Kind.wildcardScan:
      return typeof v === 'string' && (args[arg] as Wildcard).matches(v, budget);
    case Kind.existsTrue:
      return true;
    case Kind.numeric:
      // Numbers given as strings are not numbers: EventBridge does not match them either.
      return (
        typeof v === 'number' &&
        compare(codes & 7, v, args[arg] as number) &&
        compare(codes >> 3, v, args[arg + 1] as number)
      );
    case Kind.anythingButValue:
      return (typeof v === 'string' || typeof v === 'number') && v !== args[arg];
    case Kind.anythingButSet:
      return (
        (typeof v === 'string' || typeof v === 'number') &&
        !(args[arg] as ReadonlySet<unknown>).has(v)
      );
    case Kind.anythingButPrefix:
      return typeof v === 'string' && !hasPrefix(v, args[arg] as string);
    case Kind.anythingButSuffix:
      return typeof v === 'string' && !hasSuffix(v, args[arg] as string);
    default:
      return false;
  }
}

/** `v op bound` for a numeric code; code 0 (no second condition) holds. */
function compare(op: number, v: number, bound: number): boolean {
  switch (op) {
    case 1:
      return v < bound;
    case 2:
      return v <= bound;
    case 3:
      return v === bound;
    case 4:
      return v > bound;
    case 5:
      return v >= bound;
    default:
      return true;
  }
}
