import { MatchBudget } from './match-budget';
import { hasPrefix, hasSuffix, type Wildcard } from './wildcard';

/** Why a compiled pattern did not match an event: the first field and operator that failed. */
export interface PatternMiss {
  /** The field, as a dotted path (`data.amount`), or `$or` when no branch matched. */
  readonly field: string;
  /** The operators of that field, as written (`numeric`, `prefix`, `exact`...). */
  readonly operator: string;
}

/**
 * What a matcher does with a value: one test per kind, in {@link testValue}. Where its operand
 * is: in the filter (the item itself, or the operator's argument), or compiled (`operands`).
 */
export const Kind = {
  /** The item. */
  exact: 0,
  /** `{ prefix }`. */
  prefix: 1,
  /** `{ suffix }`. */
  suffix: 2,
  /** `{ 'equals-ignore-case' }`, already in lower case. */
  equalsIgnoreCase: 3,
  /** The same, lowercased when compiled: a compiled operand. */
  equalsIgnoreCaseFolded: 4,
  /** A compiled Wildcard. */
  wildcard: 5,
  /** A wildcard with text between two `*`: it searches the value, and pays first. */
  wildcardScan: 6,
  existsTrue: 7,
  existsFalse: 8,
  /** `{ numeric: [op, bound, op?, bound?] }`: the ops as codes in the shape, the bounds read. */
  numeric: 9,
  /** `{ 'anything-but': value }`. */
  anythingButValue: 10,
  /** `{ 'anything-but': [value] }`. */
  anythingButListed: 11,
  /** `{ 'anything-but': [values...] }`: a compiled Set. */
  anythingButSet: 12,
  /** `{ 'anything-but': { prefix } }`. */
  anythingButPrefix: 13,
  /** `{ 'anything-but': { suffix } }`. */
  anythingButSuffix: 14,
} as const;

/** Comparison codes of `numeric`. */
export const NUMERIC_CODES: Readonly<Record<string, number>> = {
  '<': 1,
  '<=': 2,
  '=': 3,
  '>': 4,
  '>=': 5,
};

/**
 * One value or operator of a field, as data. Its operand is read from the filter itself (the
 * `item`-th element of the field's list) unless matching needs it in another form (`operand`).
 */
export interface MatcherSpec {
  /** The operator, as a {@link Kind}: its name, for `explain`, is that kind's. */
  readonly kind: number;
  /** Steps one test costs beyond the first when the value is a string (the pattern's text). */
  readonly textSteps: number;
  /** Where the value or operator is in its field's list. */
  readonly item: number;
  /** A compiled operand (a Set, a Wildcard, a folded text), for the kinds that take one. */
  readonly operand?: unknown;
  /** `numeric`: both comparisons' codes (NUMERIC_CODES), the second 0 when there is one. */
  readonly codes?: readonly [number, number];
}

/** A field rule at compile time: where the field is, where its list is, and its matchers. */
export interface FieldSpec {
  /** Where the field is in the event. */
  readonly path: readonly string[];
  /** Where its list of values and operators is in the filter (keys, and `$or` indexes). */
  readonly list: readonly (string | number)[];
  readonly matchers: readonly MatcherSpec[];
}

/** A pattern's node at compile time: every field must match, and one branch of each `$or`. */
export interface NodeSpec {
  readonly fields: readonly FieldSpec[];
  readonly ors: readonly (readonly NodeSpec[])[];
}

/*
 * A compiled pattern is its filter (the frozen JSON the subscription holds anyway), a shape (how
 * to read and test it: small integers and names, shared by every filter of the same structure)
 * and, for the few operators that need one, compiled operands. Matching walks the shape with one
 * loop and one switch, the same code for every pattern: with thousands of distinct filters, a
 * tree of closures per filter made the call sites megamorphic and scattered each filter over
 * some 40 heap objects; a copy of the filter's values beside its JSON doubled what it held.
 *
 *   node:    [end, fields, ors, field..., or...]
 *   field:   [end, pathLength, pathName, stringSteps, otherSteps, matchers, listLength, listName,
 *             matcher...]
 *   matcher: [kind, textSteps, item, extra]     (MATCHER_SLOTS; extra: an operand's index, or
 *                                                numeric codes as first + 8 * second)
 *   or:      [end, branches, node...]
 *
 * `pathName` and `listName` index `names`: the field's path in the event, its list's in the filter
 * (the same names when the field is not under an `$or`).
 */
const MATCHER_SLOTS = 4;
/** Offset of a field's first matcher, from the field's start. */
const FIELD_HEAD = 8;

/**
 * How a pattern is read and tested, without its values: shared by every pattern of the same
 * structure (field names and operators in the same places), see PatternCache.
 */
export class PatternShape {
  /** Programs using it (PatternCache's count). */
  refs = 0;
  constructor(
    readonly ops: Uint8Array | Uint16Array | Int32Array,
    readonly names: readonly (string | number)[],
  ) {}

  /** Equal for equal shapes: what shapes are shared by. */
  key(): string {
    return `${this.ops.join(',')}|${JSON.stringify(this.names)}`;
  }
}

const NO_OPERANDS: readonly unknown[] = Object.freeze([]);

/**
 * Turns a checked node (compilePattern's work) and the filter it was checked from into a program.
 * `filter` must not change afterwards: it is read at every match (compilePattern gives a frozen
 * one).
 *
 * @example
 * ```ts
 * const filter = Object.freeze({ source: Object.freeze([Object.freeze({ prefix: '/shop/' })]) });
 * const program = assemble(
 *   { fields: [{ path: ['source'], list: ['source'], matchers: [{ kind: Kind.prefix, textSteps: 0, item: 0 }] }], ors: [] },
 *   filter,
 * );
 * program.matches({ source: '/shop/eu' }); // true
 * ```
 */
export function assemble(root: NodeSpec, filter: unknown): PatternProgram {
  const ops: number[] = [];
  const names: (string | number)[] = [];
  const operands: unknown[] = [];
  const node = (spec: NodeSpec): void => {
    const at = ops.push(0, spec.fields.length, spec.ors.length) - 3;
    for (const field of spec.fields) {
      const start = ops.push(0, field.path.length, names.length) - 3;
      names.push(...field.path);
      const tested = field.matchers.filter((m) => !matchesMissing(m));
      ops.push(
        tested.reduce((n, m) => n + 1 + m.textSteps, 1),
        1 + tested.length,
        field.matchers.length,
      );
      const same =
        field.list.length === field.path.length && field.list.every((k, i) => k === field.path[i]);
      ops.push(field.list.length, same ? ops[start + 2] : names.length);
      if (!same) names.push(...field.list);
      for (const m of field.matchers) {
        let extra = 0;
        if (m.codes) extra = m.codes[0] + 8 * m.codes[1];
        else if (m.operand !== undefined) extra = operands.push(m.operand) - 1;
        ops.push(m.kind, m.textSteps, m.item, extra);
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
  // The structure in the narrowest integers that hold it: a typical filter's fits in bytes.
  const widest = Math.max(...ops);
  const Narrowest = widest < 2 ** 8 ? Uint8Array : widest < 2 ** 16 ? Uint16Array : Int32Array;
  const shape = new PatternShape(Narrowest.from(ops), names);
  return new PatternProgram(shape, filter, operands.length ? operands : NO_OPERANDS);
}

/** `exists: false` matches a missing field; nothing else does. */
function matchesMissing(m: MatcherSpec): boolean {
  return m.kind === Kind.existsFalse;
}

/** The shape of a filter this version cannot read: one field no value matches, explained so. */
const UNREADABLE_SHAPE = new PatternShape(Uint8Array.from([11, 1, 0, 11, 1, 0, 1, 1, 0, 0, 0]), [
  '$filter',
]);

const OPERATORS = [
  'exact',
  'prefix',
  'suffix',
  'equals-ignore-case',
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
  'anything-but',
];

/**
 * A compiled pattern: matching reads the event, the shape and the filter's own values (a frozen
 * JSON value, held once: by the subscription). The work spent from a {@link MatchBudget} is, step
 * for step, what the pattern's fields and values cost (see MatchBudget): a field looked up, a value
 * tested, more for long strings.
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
    /** How the filter is read and tested: replaced by an equal one when shapes are shared. */
    public shape: PatternShape,
    /** The filter, frozen: what it was compiled from, and where its values are read. */
    readonly filter: unknown,
    private readonly operands: readonly unknown[],
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
    return new PatternProgram(UNREADABLE_SHAPE, filter, NO_OPERANDS);
  }

  /** Whether the event matches; spends from `budget` (none: no limit, for the host's own use). */
  matches(event: Readonly<Record<string, unknown>>, budget?: MatchBudget): boolean {
    return this.matchNode(0, event, budget ?? new MatchBudget(Infinity));
  }

  /** The first field that failed, or undefined when the event matches. */
  explain(event: Readonly<Record<string, unknown>>, budget?: MatchBudget): PatternMiss | undefined {
    const work = budget ?? new MatchBudget(Infinity);
    const { ops } = this.shape;
    let at = 3;
    for (let i = 0; i < ops[1]; i++, at = ops[at]) {
      if (!this.matchField(at, event, work)) return this.miss(at);
    }
    for (let i = 0; i < ops[2]; i++, at = ops[at]) {
      if (!this.matchOr(at, event, work)) return { field: '$or', operator: '$or' };
    }
    return undefined;
  }

  /** Each node is visited once, however deep its `$or`s nest: the cost is its matchers'. */
  private matchNode(
    at: number,
    event: Readonly<Record<string, unknown>>,
    budget: MatchBudget,
  ): boolean {
    const { ops } = this.shape;
    const fields = ops[at + 1];
    const ors = ops[at + 2];
    at += 3;
    for (let i = 0; i < fields; i++, at = ops[at]) {
      if (!this.matchField(at, event, budget)) return false;
    }
    for (let i = 0; i < ors; i++, at = ops[at]) {
      if (!this.matchOr(at, event, budget)) return false;
    }
    return true;
  }

  private matchOr(at: number, event: Readonly<Record<string, unknown>>, budget: MatchBudget) {
    const { ops } = this.shape;
    const branches = ops[at + 1];
    let branch = at + 2;
    for (let i = 0; i < branches; i++, branch = ops[branch]) {
      if (this.matchNode(branch, event, budget)) return true;
    }
    return false;
  }

  /**
   * Whether the field matches, spending as it goes: one value costs the lookup and all its tests,
   * paid at once (a few steps too many when an early one matches); an array, whose length is what
   * an event sender controls, a step (more for long strings) per element and matcher tested.
   */
  private matchField(
    at: number,
    event: Readonly<Record<string, unknown>>,
    budget: MatchBudget,
  ): boolean {
    const { ops } = this.shape;
    const value = this.valueAt(at, event);
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
    const list = this.listAt(at);
    const { operands } = this;
    if (!Array.isArray(value)) {
      budget.spend(typeof value === 'string' ? ops[at + 3] : ops[at + 4]);
      for (let m = first; m < end; m += MATCHER_SLOTS) {
        if (testValue(ops[m], list[ops[m + 2]], ops[m + 3], operands, value, budget)) return true;
      }
      return false;
    }
    // An array matches when one of its elements does.
    budget.spend(1);
    for (let m = first; m < end; m += MATCHER_SLOTS) {
      const kind = ops[m];
      if (kind === Kind.existsFalse) continue;
      const item: unknown = list[ops[m + 2]];
      const extra = ops[m + 3];
      for (let j = 0; j < value.length; j++) {
        const element: unknown = value[j];
        budget.spend(typeof element === 'string' ? 1 + ops[m + 1] : 1);
        if (testValue(kind, item, extra, operands, element, budget)) return true;
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
  private valueAt(at: number, event: Readonly<Record<string, unknown>>): unknown {
    const { ops, names } = this.shape;
    let value: unknown = event;
    for (let i = ops[at + 2], end = i + ops[at + 1]; i < end; i++) {
      if (typeof value !== 'object' || value === null) return undefined;
      const step = names[i] as string;
      const next: unknown = (value as Record<string, unknown>)[step];
      if (next === undefined) return undefined;
      if ((typeof next === 'function' || step === '__proto__') && !Object.hasOwn(value, step))
        return undefined;
      value = next;
    }
    return value;
  }

  /** The field's list of values and operators, in the filter (checked when compiled: it is there). */
  private listAt(at: number): readonly unknown[] {
    const { ops, names } = this.shape;
    let list = this.filter as Record<string | number, unknown>;
    for (let i = ops[at + 7], end = i + ops[at + 6]; i < end; i++) {
      list = list[names[i]] as Record<string | number, unknown>;
    }
    return list as unknown as readonly unknown[];
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

type Operator = Readonly<Record<string, unknown>>;

/**
 * Tests one present, non-array value against one matcher: `item` is its element of the field's
 * list, `extra` its operand's index or numeric codes. Only a test whose cost grows with the value
 * (a scanning wildcard) spends itself. `exists: false` never matches a present value.
 */
function testValue(
  kind: number,
  item: unknown,
  extra: number,
  operands: readonly unknown[],
  v: unknown,
  budget: MatchBudget,
): boolean {
  switch (kind) {
    case Kind.exact:
      return v === item;
    case Kind.prefix:
      return typeof v === 'string' && hasPrefix(v, (item as Operator).prefix as string);
    case Kind.suffix:
      return typeof v === 'string' && hasSuffix(v, (item as Operator).suffix as string);
    case Kind.equalsIgnoreCase:
      return typeof v === 'string' && equalsFolded(v, (item as Operator)['equals-ignore-case']);
    case Kind.equalsIgnoreCaseFolded:
      return typeof v === 'string' && equalsFolded(v, operands[extra]);
    case Kind.wildcard:
      return typeof v === 'string' && (operands[extra] as Wildcard).matches(v);
    case Kind.wildcardScan:
      return typeof v === 'string' && (operands[extra] as Wildcard).matches(v, budget);
    case Kind.existsTrue:
      return true;
    case Kind.numeric: {
      // Numbers given as strings are not numbers: EventBridge does not match them either.
      if (typeof v !== 'number') return false;
      const bounds = (item as Operator).numeric as readonly number[];
      return compare(extra & 7, v, bounds[1]) && compare(extra >> 3, v, bounds[3]);
    }
    case Kind.anythingButValue:
      return (
        (typeof v === 'string' || typeof v === 'number') && v !== (item as Operator)['anything-but']
      );
    case Kind.anythingButListed:
      return (
        (typeof v === 'string' || typeof v === 'number') &&
        v !== ((item as Operator)['anything-but'] as readonly unknown[])[0]
      );
    case Kind.anythingButSet:
      return (
        (typeof v === 'string' || typeof v === 'number') &&
        !(operands[extra] as ReadonlySet<unknown>).has(v)
      );
    case Kind.anythingButPrefix:
      return typeof v === 'string' && !hasPrefix(v, anythingBut(item).prefix as string);
    case Kind.anythingButSuffix:
      return typeof v === 'string' && !hasSuffix(v, anythingBut(item).suffix as string);
    default:
      return false;
  }
}

/**
 * Lowercasing never shortens a string (one character, İ, even grows): a longer value cannot be
 * equal, and is not lowercased. The work is bounded by the pattern's text, not the event's.
 */
function equalsFolded(v: string, folded: unknown): boolean {
  const s = folded as string;
  return v.length <= s.length && v.toLowerCase() === s;
}

function anythingBut(item: unknown): Operator {
  return (item as Operator)['anything-but'] as Operator;
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
