import { ValidationError } from '../errors';
import { describeError } from '../model/describe-error';

/** Objects made by {@link acceptData} (and accepted events): frozen, ours, safe to cache by. */
const accepted = new WeakSet<object>();

/** True for a value {@link acceptData} made (or an accepted event): it can never change. */
export function isAccepted(value: unknown): boolean {
  return typeof value === 'object' && value !== null && accepted.has(value);
}

/** Marks an object the gateway built and froze itself as accepted. */
export function markAccepted<T extends object>(value: T): T {
  accepted.add(Object.freeze(value));
  return value;
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
  return copy(value, maxDepth, what, 0);
}

function copy(value: unknown, maxDepth: number, where: string, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) refuse(where, `is ${value}, which JSON cannot carry`);
      return value;
    case 'object':
      break;
    case 'undefined':
      return undefined;
    default:
      refuse(where, `is a ${typeof value}, which JSON cannot carry`);
  }
  if (value === null) return null;
  if (depth >= maxDepth) refuse(where, `nests deeper than ${maxDepth} levels`);
  let source: unknown = value;
  try {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      source = (value as { toJSON(key: string): unknown }).toJSON('');
      if (typeof source !== 'object' || source === null) {
        return copy(source, maxDepth, where, depth);
      }
    }
    if (source instanceof Map || source instanceof Set) {
      refuse(where, `is a ${source instanceof Map ? 'Map' : 'Set'}, which JSON cannot carry`);
    }
    return Array.isArray(source)
      ? copyArray(source, maxDepth, where, depth)
      : copyObject(source as Record<string, unknown>, maxDepth, where, depth);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    refuse(where, `could not be read: ${describeError(error)}`);
  }
}

function copyArray(source: unknown[], maxDepth: number, where: string, depth: number): unknown[] {
  const out = new Array<unknown>(source.length);
  for (let i = 0; i < source.length; i++) {
    const item = copy(source[i], maxDepth, `${where}[${i}]`, depth + 1);
    // JSON writes a missing array item as null.
    out[i] = item === undefined ? null : item;
  }
  accepted.add(Object.freeze(out));
  return out;
}

function copyObject(
  source: Record<string, unknown>,
  maxDepth: number,
  where: string,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    const item = copy(source[key], maxDepth, `${where}.${key}`, depth + 1);
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
  accepted.add(Object.freeze(out));
  return out;
}

function refuse(where: string, problem: string): never {
  throw new ValidationError(`"${where.slice(0, 200)}" ${problem}.`, { resource: 'event' });
}
