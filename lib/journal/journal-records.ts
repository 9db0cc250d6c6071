import { DELIVERY_ID } from '../events/gateway-extensions';
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
 * A compact record of one event's deliveries (format 2): the event once, without its
 * `deliveryid`, and per delivery only what differs. About half the bytes of format 1 (a JSON list
 * of entries, each with its copy of the event) for a small event with one subscription.
 */
interface CompactRecord {
  readonly v: 2;
  /** The space. */
  readonly s: string;
  /** Accepted at, ms since the epoch. */
  readonly t: number;
  /** Per delivery: its ID, subscription, function, and attempts. */
  readonly d: [string, string, string, number][];
  /** The event without its `deliveryid`. */
  readonly e: Record<string, unknown>;
  /** The acceptance span's `traceparent`, when traced (absent in records before tracing). */
  readonly p?: string;
  /** Its `tracestate`, if any. */
  readonly q?: string;
}

/**
 * Encodes one event's deliveries (one `record` call) as a record: compact (format 2) when they
 * share the space, the time and the event but for its `deliveryid`, as the deliveries of one emit
 * do; else a list of entries (format 1). `decodeEntries` reads both.
 */
export function encodeEntries(entries: readonly JournalEntry[]): string {
  const first = entries[0];
  const base = first ? withoutDeliveryId(first) : undefined;
  if (!base || !entries.every((entry, i) => i === 0 || sameDelivery(entry, first, base))) {
    return JSON.stringify(entries);
  }
  // Written out rather than built as arrays and stringified: this runs once per emit, and the
  // arrays cost more than the text (BENCHMARKS.md, issue 26).
  let d = '';
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    d += `${i === 0 ? '' : ','}[${json(e.deliveryId)},${json(e.subscriptionId)},${json(e.functionId)},${json(e.attempts)}]`;
  }
  const trace =
    (first.traceparent !== undefined ? `,"p":${json(first.traceparent)}` : '') +
    (first.tracestate !== undefined ? `,"q":${json(first.tracestate)}` : '');
  return `{"v":2,"s":${json(first.space)},"t":${first.acceptedAt},"d":[${d}],"e":${JSON.stringify(base)}${trace}}`;
}

/** Text that is its own JSON between quotes: nothing to escape, no surrogate (lone or paired). */
// eslint-disable-next-line no-control-regex -- the control characters JSON escapes
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * A value as JSON, as inside an array (`undefined` is `null` there). IDs and names are plain
 * text: quoted as they are, a third of `JSON.stringify`'s cost for each of an emit's five or so
 * (BENCHMARKS.md, issue 26, fifth pass); the rest as `JSON.stringify` writes it.
 */
const json = (value: unknown): string =>
  typeof value === 'string' && PLAIN.test(value) ? `"${value}"` : (JSON.stringify(value) ?? 'null');

/**
 * One record holding several emits' records (from `encodeEntries`: compact, or a list of entries
 * for an emit that cannot be), as the Kafka journal writes the emits of one produce request
 * (kafkajs spends about 8 µs per record it encodes, and about 2.4 µs per event when 64 share
 * one) and the LocalJournal the emits of one sync (BENCHMARKS.md, issue 26). `decodeEntries`
 * reads it.
 */
export function encodeGroup(records: readonly string[]): string {
  return `{"v":3,"g":[${records.join(',')}]}`;
}

/** The bytes `encodeGroup` adds around its records and their separators. */
export const GROUP_OVERHEAD = Buffer.byteLength(encodeGroup([]));

/**
 * The entry's event but its `deliveryid`, when that is its own delivery ID and the entry can be
 * written compact (its time a number); else undefined.
 */
function withoutDeliveryId(entry: JournalEntry): Record<string, unknown> | undefined {
  const event = entry.event as unknown as Record<string, unknown>;
  if (typeof event !== 'object' || event === null || !Number.isFinite(entry.acceptedAt)) {
    return undefined;
  }
  if (
    event[DELIVERY_ID] !== entry.deliveryId ||
    !Object.prototype.propertyIsEnumerable.call(event, DELIVERY_ID)
  ) {
    return undefined;
  }
  const base: Record<string, unknown> = {};
  for (const key of Object.keys(event)) if (key !== DELIVERY_ID) base[key] = event[key];
  return base;
}

function sameDelivery(
  entry: JournalEntry,
  first: JournalEntry,
  base: Record<string, unknown>,
): boolean {
  if (entry.space !== first.space || entry.acceptedAt !== first.acceptedAt) return false;
  if (entry.traceparent !== first.traceparent || entry.tracestate !== first.tracestate)
    return false;
  const event = entry.event as Record<string, unknown>;
  if (event[DELIVERY_ID] !== entry.deliveryId || !Number.isFinite(entry.acceptedAt)) return false;
  const keys = Object.keys(event);
  if (keys.length !== Object.keys(base).length + 1) return false;
  return keys.every((key) => key === DELIVERY_ID || event[key] === base[key]);
}

/** The entries of a compact record, or undefined when it is not one. */
function fromCompact(value: Partial<CompactRecord>): JournalEntry[] | undefined {
  const { s, t, d, e, p, q } = value;
  if (typeof s !== 'string' || typeof t !== 'number' || !Array.isArray(d)) return undefined;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return undefined;
  const entries: JournalEntry[] = [];
  for (const item of d as unknown[]) {
    if (!Array.isArray(item) || item.length !== 4) return undefined;
    const [deliveryId, subscriptionId, functionId, attempts] = item as unknown[];
    const entry = {
      deliveryId,
      space: s,
      event: { ...e, [DELIVERY_ID]: deliveryId },
      subscriptionId,
      functionId,
      attempts,
      acceptedAt: t,
      // A trace context of the wrong type is left out: the delivery resumes untraced.
      ...(typeof p === 'string' && { traceparent: p }),
      ...(typeof q === 'string' && { tracestate: q }),
    };
    if (!isEntry(entry)) return undefined;
    entries.push(entry);
  }
  return entries;
}

/**
 * Reads a record that should hold deliveries: a compact record (see `encodeEntries`), or a list
 * of entries, of which the ones that are deliveries are kept, and `damage` says what is wrong
 * with the rest (a record from another writer or another version, or torn bits). A record that is
 * neither keeps nothing.
 */
export function decodeEntries(bytes: Uint8Array): DecodedEntries {
  let value: unknown;
  try {
    value = decodeJson(bytes);
  } catch (error) {
    return { entries: [], damage: (error as Error).message };
  }
  if ((value as Partial<CompactRecord> | null)?.v === 2) {
    const entries = fromCompact(value as Partial<CompactRecord>);
    return entries ? { entries } : { entries: [], damage: 'it is not a record of deliveries' };
  }
  const group =
    (value as { v?: unknown; g?: unknown } | null)?.v === 3
      ? (value as { g?: unknown }).g
      : undefined;
  if (group !== undefined) {
    if (!Array.isArray(group)) return { entries: [], damage: 'it is not a record of deliveries' };
    // Each emit's deliveries stand alone: a bad one is set aside, the others resume.
    const entries: JournalEntry[] = [];
    const bad: number[] = [];
    group.forEach((item: unknown, index) => {
      const read =
        (item as Partial<CompactRecord> | null)?.v === 2
          ? fromCompact(item as Partial<CompactRecord>)
          : Array.isArray(item) && item.length > 0 && item.every(isEntry)
            ? item
            : undefined;
      if (!read) bad.push(index);
      else for (const entry of read) entries.push(entry);
    });
    return partly(entries, bad, group.length, 'emits');
  }
  if (!Array.isArray(value)) return { entries: [], damage: 'it is not a list of deliveries' };
  const entries: JournalEntry[] = [];
  const bad: number[] = [];
  value.forEach((item: unknown, index) => (isEntry(item) ? entries.push(item) : bad.push(index)));
  return partly(entries, bad, value.length, 'entries');
}

/** What a record of `total` items (`what`) gives when the items at `bad` could not be read. */
export function partly(
  entries: JournalEntry[],
  bad: number[],
  total: number,
  what: string,
): DecodedEntries {
  if (bad.length === 0) return { entries };
  const where = bad.slice(0, 10).join(', ') + (bad.length > 10 ? ', …' : '');
  return {
    entries,
    damage:
      entries.length === 0
        ? 'it is not a list of deliveries'
        : `${bad.length} of its ${total} ${what} (at index ${where}) are not deliveries; the other ${entries.length} resume`,
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
