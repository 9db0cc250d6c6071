import { ValidationError } from '../errors';
import { describeError } from '../model/describe-error';

/**
 * The class of events the gateway accepted: built by the gateway, deeply frozen, so safe to cache
 * by (an http function's JSON body is made once per event). The class marks them at no cost; a
 * WeakSet of accepted events cost a sixth of a local delivery.
 */
class AcceptedEvent {}

/** A new, empty accepted event to fill, then freeze with {@link freezeAccepted}. */
export function newAcceptedEvent(): Record<string, unknown> {
  return new AcceptedEvent() as Record<string, unknown>;
}

/** Freezes an accepted event once it is filled. */
export function freezeAccepted<T extends object>(event: T): T {
  return Object.freeze(event);
}

/** True for an event the gateway accepted (and froze): it can never change. */
export function isAccepted(value: unknown): boolean {
  return value instanceof AcceptedEvent;
}

/**
 * A frozen deep copy of event data, as JSON would carry it, made once when an event is accepted:
 * whatever the caller or a handler mutates afterwards, every function receives the data as it was
 * accepted. Follows JSON's rules (`toJSON` is used, `undefined` properties are left out) but
 * refuses what JSON would lose or mangle silently (functions, symbols, bigints, NaN and
 * Infinity, Maps and Sets, cycles) and nesting deeper than `maxDepth`, with a ValidationError that
 * names where. `what` names the value in messages.
 */
export function acceptData(value: unknown, maxDepth: number, what = 'data'): unknown {
  try {
    return copy(value, maxDepth, 0);
  } catch (error) {
    throw validationOf(error, what);
  }
}

/**
 * Freezes, in place, data that `JSON.parse` just made for one event and nobody else holds (see
 * `newMadeEvent`): the same checks as {@link acceptData} where JSON's output can fail them (depth;
 * a number such as `1e999` parses to Infinity) and the same ValidationError, without making a
 * second of every object and array. Only for data no caller kept a reference to: a caller's data
 * is copied by `acceptData`.
 */
export function freezeParsedData(value: unknown, maxDepth: number, what = 'data'): unknown {
  try {
    return freezeParsed(value, maxDepth, 0);
  } catch (error) {
    throw validationOf(error, what);
  }
}

/** The ValidationError naming where a DataProblem is (any other error as it is). */
function validationOf(error: unknown, what: string): unknown {
  if (!(error instanceof DataProblem)) return error;
  const where = what + error.path.join('');
  return new ValidationError(`"${where.slice(0, 200)}" ${error.problem}.`, { resource: 'event' });
}

/** What is wrong, and where: the path is built on the way out, so a valid copy builds no strings. */
class DataProblem {
  readonly path: string[] = [];
  constructor(readonly problem: string) {}
}

function copy(value: unknown, maxDepth: number, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new DataProblem(`is ${value}, which JSON cannot carry`);
      return value;
    case 'object':
      break;
    case 'undefined':
      return undefined;
    default:
      throw new DataProblem(`is a ${typeof value}, which JSON cannot carry`);
  }
  if (value === null) return null;
  if (depth >= maxDepth) throw new DataProblem(`nests deeper than ${maxDepth} levels`);
  let source: unknown = value;
  try {
    // Most data is plain objects and arrays: no toJSON, no Map.
    if (Array.isArray(value)) return copyArray(value, maxDepth, depth);
    if (Object.getPrototypeOf(value) === Object.prototype && !('toJSON' in value)) {
      return copyObject(value as Record<string, unknown>, maxDepth, depth);
    }
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      source = (value as { toJSON(key: string): unknown }).toJSON('');
      if (typeof source !== 'object' || source === null) return copy(source, maxDepth, depth);
    }
    if (source instanceof Map || source instanceof Set) {
      throw new DataProblem(
        `is a ${source instanceof Map ? 'Map' : 'Set'}, which JSON cannot carry`,
      );
    }
    return Array.isArray(source)
      ? copyArray(source, maxDepth, depth)
      : copyObject(source as Record<string, unknown>, maxDepth, depth);
  } catch (error) {
    if (error instanceof DataProblem) throw error;
    throw new DataProblem(`could not be read: ${describeError(error)}`);
  }
}

// Object.hasOwn is not optimized inside for-in (it costs as much as Object.keys' array).
const { hasOwnProperty } = Object.prototype;

/**
 * A string, a boolean or a finite number as is, without a call to {@link copy}: most data's
 * leaves. `undefined` sends the rest (and NaN, which then fails) to `copy`.
 */
function plainLeaf(value: unknown): unknown {
  const type = typeof value;
  if (type === 'string' || type === 'boolean') return value;
  if (type === 'number' && Number.isFinite(value)) return value;
  return undefined;
}

function copyArray(source: unknown[], maxDepth: number, depth: number): unknown[] {
  const out = new Array<unknown>(source.length);
  let i = 0;
  try {
    for (; i < source.length; i++) {
      const value = source[i];
      const item = plainLeaf(value) ?? copy(value, maxDepth, depth + 1);
      // JSON writes a missing array item as null.
      out[i] = item === undefined ? null : item;
    }
  } catch (error) {
    if (error instanceof DataProblem) error.path.unshift(`[${i}]`);
    throw error;
  }
  return Object.freeze(out) as unknown[];
}

function copyObject(
  source: Record<string, unknown>,
  maxDepth: number,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let key = '';
  try {
    // for-in and hasOwnProperty: the own enumerable keys in Object.keys' order, without an array
    // of them per object, and read through for-in's cache.
    for (key in source) {
      if (!hasOwnProperty.call(source, key)) continue;
      const value = source[key];
      const item = plainLeaf(value) ?? copy(value, maxDepth, depth + 1);
      if (item === undefined) continue;
      if (key === '__proto__') {
        // A plain assignment would set the prototype instead of a property named "__proto__".
        Object.defineProperty(out, key, {
          value: item,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        out[key] = item;
      }
    }
  } catch (error) {
    if (error instanceof DataProblem) error.path.unshift(`.${key}`);
    throw error;
  }
  return Object.freeze(out);
}

/** JSON.parse's output only: plain objects, arrays, strings, numbers, booleans and null. */
function freezeParsed(value: unknown, maxDepth: number, depth: number): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DataProblem(`is ${value}, which JSON cannot carry`);
    return value;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= maxDepth) throw new DataProblem(`nests deeper than ${maxDepth} levels`);
  if (Array.isArray(value)) {
    let i = 0;
    try {
      for (; i < value.length; i++) freezeParsed(value[i], maxDepth, depth + 1);
    } catch (error) {
      if (error instanceof DataProblem) error.path.unshift(`[${i}]`);
      throw error;
    }
  } else {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object); // own keys only: never what a prototype lends
    let key = '';
    try {
      for (key of keys) freezeParsed(object[key], maxDepth, depth + 1);
    } catch (error) {
      if (error instanceof DataProblem) error.path.unshift(`.${key}`);
      throw error;
    }
  }
  // Children first: a frozen object's whole content was checked.
  return Object.freeze(value);
}
