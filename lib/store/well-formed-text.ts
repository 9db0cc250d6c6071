import { ValidationError } from '../errors';
import type { Compare, ListOptions, Operation } from './store';

/** A lone surrogate (a UTF-16 half without its other half): text with one has no UTF-8 form. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Refuses a key, prefix or value that holds a lone surrogate. Such text has no UTF-8 form: a
 * server stores U+FFFD in its place, so a put would write, and a delete remove, another key than
 * the one named (or keep another value than the one written). Every store refuses it alike, so
 * that moving from MemoryStore to a server changes nothing.
 *
 * @example
 * ```ts
 * wellFormedText('/fn/a', 'key'); // fine
 * wellFormedText('/fn/\ud800', 'key'); // throws ValidationError
 * ```
 */
export function wellFormedText(text: string, what: 'key' | 'prefix' | 'value'): void {
  if (LONE_SURROGATE.test(text)) {
    throw new ValidationError(
      `${what} ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '...' : text)} is not well-formed text (a lone surrogate has no UTF-8 form).`,
    );
  }
}

/** {@link wellFormedText} over a transaction's compares and operations. */
export function wellFormedTxn(
  compares: readonly Compare[],
  operations: readonly Operation[],
): void {
  for (const compare of compares) {
    if ('prefix' in compare) wellFormedText(compare.prefix, 'prefix');
    else wellFormedText(compare.key, 'key');
  }
  for (const op of operations) {
    wellFormedText(op.key, 'key');
    if (op.type === 'put') wellFormedText(op.value, 'value');
  }
}

/** {@link wellFormedText} over a listing's prefix and its `after`. */
export function wellFormedListing(prefix: string, options: ListOptions): void {
  wellFormedText(prefix, 'prefix');
  if (options.after !== undefined) wellFormedText(options.after, 'key');
}
