/** Longest description kept: error text ends up in logs, dead letters and system events. */
const MAX_DESCRIPTION = 1000;

/**
 * A one-line description of anything a handler, hook or provider threw or rejected with. It never
 * throws itself: thrown values may have no prototype, getters that throw, or be revoked proxies,
 * and describing a failure must never become a second failure.
 */
export function describeError(value: unknown): string {
  let text: string;
  try {
    text = describe(value);
  } catch {
    text = '[an unprintable value]';
  }
  return text.length > MAX_DESCRIPTION ? text.slice(0, MAX_DESCRIPTION) + '…' : text;
}

function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value === '' ? '(an empty string)' : value;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${typeof value.name === 'string' && value.name ? value.name : '(anonymous)'}]`;
    case 'object': {
      if (value === null) return 'null';
      let message: unknown;
      try {
        message = (value as { message?: unknown }).message;
      } catch {
        message = undefined;
      }
      if (typeof message === 'string' && message !== '') return message;
      return tag(value);
    }
    default:
      return String(value);
  }
}

function tag(value: object): string {
  try {
    return Object.prototype.toString.call(value);
  } catch {
    return '[object]';
  }
}

/**
 * A value as JSON for a message (`"abc"`, `12`, `null`), whatever it is: values JSON cannot write
 * (bigints, symbols, cycles, throwing getters) are described instead, and long ones cut short.
 */
export function showValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) text = describeError(value);
  return text.length > 200 ? text.slice(0, 200) + '…' : text;
}
