import type { JournalEntry } from './journal';

/** What a journal record holding a list of deliveries decodes to. */
export interface DecodedEntries {
  /** The deliveries it holds that can be made. */
  readonly entries: JournalEntry[];
  /** Why some (or all) of it cannot be used, when that is so: it is then set aside. */
  readonly damage?: string;
}

/** Decodes UTF-8, throwing a TypeError on bytes that are not (never U+FFFD in their place). */
export const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a record's bytes as the JSON a journal wrote: UTF-8 text, then JSON. Throws a TypeError
 * that says which of the two it is not (the record is then set aside, never dropped silently).
 */
export function decodeJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new TypeError('it is not UTF-8 text');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TypeError(`it is not JSON (${(error as Error).message})`);
  }
}

/**
 * Reads a record that should hold a list of deliveries: the ones that are deliveries are kept,
 * and `damage` says what is wrong with the rest (a record from another writer or another version,
 * or torn bits). A record that is no list at all keeps nothing.
 */
export function decodeEntries(bytes: Uint8Array): DecodedEntries {
  let value: unknown;
  try {
    value = decodeJson(bytes);
  } catch (error) {
    return { entries: [], damage: (error as Error).message };
  }
  if (!Array.isArray(value)) return { entries: [], damage: 'it is not a list of deliveries' };
  const entries: JournalEntry[] = [];
  const bad: number[] = [];
  value.forEach((item: unknown, index) => (isEntry(item) ? entries.push(item) : bad.push(index)));
  if (bad.length === 0) return { entries };
  const where = bad.slice(0, 10).join(', ') + (bad.length > 10 ? ', …' : '');
  return {
    entries,
    damage:
      entries.length === 0
        ? 'it is not a list of deliveries'
        : `${bad.length} of its ${value.length} entries (at index ${where}) are not deliveries; the other ${entries.length} resume`,
  };
}

/** The shape of an entry a journal wrote (its storage may hold anything: check before use). */
export function isEntry(value: unknown): value is JournalEntry {
  const entry = value as Partial<JournalEntry> | null;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.deliveryId === 'string' &&
    typeof entry.space === 'string' &&
    typeof entry.subscriptionId === 'string' &&
    typeof entry.functionId === 'string' &&
    typeof entry.event === 'object' &&
    entry.event !== null &&
    typeof entry.attempts === 'number' &&
    typeof entry.acceptedAt === 'number'
  );
}
