import { DELIVERY_ID } from '../events/gateway-extensions';
import type { JournalEntry } from './journal';
import {
  decodeEntries,
  decodeJson,
  encodeEntries,
  isEntry,
  partly,
  type DecodedEntries,
} from './journal-records';

/**
 * The emits of one Kafka produce request in one record (format 4): what they share once (the
 * first one's time, a table of space, subscription and function), and per emit its time past the
 * first, its deliveries as indexes in that table, and its event's JSON as it is (the first
 * delivery's ID is the event's `deliveryid`: no copy of the event without it). An 87 B event with
 * one subscription takes ~165 B, against ~256 B in format 3 (a group of format 2 records, which
 * repeat the space, the subscription and function IDs, and the delivery ID beside the event).
 * Kafka's client costs per byte (a copy into a Buffer, CRC-32C, the socket write: BENCHMARKS.md,
 * issue 26, sixth pass), so the bytes are the journal's largest cost per event there.
 *
 * ```text
 * {"v":4,"t":<ms>,"k":[[space,subscription,function],...],"g":[emit,...]}
 * emit: [<ms past t>,[[k,attempts],[k,attempts,deliveryId],...],<event>,<traceparent>?,<tracestate>?]
 * ```
 * An emit that cannot be written so (its event not its first delivery's, or its deliveries'
 * events differing in more than their `deliveryid`) goes in as `encodeEntries` writes it.
 */
export class KafkaGroup {
  private readonly keys = new Map<string, number>();
  private keyList = '';
  private lastKey: { space: string; subscription: string; fn: string; index: number } | undefined;
  private t0 = 0;
  private readonly items: string[] = [];
  /** Characters of the emits so far (UTF-16 code units: the cap needs no more precision). */
  bytes = 0;

  get size(): number {
    return this.items.length;
  }

  /**
   * Adds one emit's deliveries (one `record` call), unless the group holds some already and they
   * would pass `maxBytes` with it: false then (close this group, add it to the next).
   */
  add(entries: readonly JournalEntry[], maxBytes = Infinity): boolean {
    const item = this.encode(entries) ?? encodeEntries(entries);
    if (this.items.length > 0 && this.bytes + item.length > maxBytes) return false;
    this.items.push(item);
    this.bytes += item.length;
    return true;
  }

  /** The record's text. */
  close(): string {
    return `{"v":4,"t":${this.t0},"k":[${this.keyList}],"g":[${this.items.join(',')}]}`;
  }

  private encode(entries: readonly JournalEntry[]): string | undefined {
    const first = entries[0];
    if (!first || !Number.isFinite(first.acceptedAt)) return undefined;
    const event = first.event as unknown as Record<string, unknown>;
    if (typeof event !== 'object' || event === null || event[DELIVERY_ID] !== first.deliveryId) {
      return undefined;
    }
    if (!Object.prototype.propertyIsEnumerable.call(event, DELIVERY_ID)) return undefined;
    for (let i = 1; i < entries.length; i++) if (!sameEmit(entries[i], first)) return undefined;
    if (this.items.length === 0) this.t0 = first.acceptedAt;
    let deliveries = '';
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const k = this.key(e.space, e.subscriptionId, e.functionId);
      const id = i === 0 ? '' : `,${JSON.stringify(e.deliveryId)}`;
      deliveries += `${i === 0 ? '' : ','}[${k},${JSON.stringify(e.attempts) ?? 'null'}${id}]`;
    }
    const trace =
      first.traceparent === undefined
        ? ''
        : `,${JSON.stringify(first.traceparent)}${first.tracestate === undefined ? '' : `,${JSON.stringify(first.tracestate)}`}`;
    return `[${first.acceptedAt - this.t0},[${deliveries}],${JSON.stringify(event)}${trace}]`;
  }

  private key(space: string, subscription: string, fn: string): number {
    // Most emits of a record go to the key before them: compared as they are, no JSON.
    const last = this.lastKey;
    if (last && last.space === space && last.subscription === subscription && last.fn === fn) {
      return last.index;
    }
    const text = JSON.stringify([space, subscription, fn]);
    let index = this.keys.get(text);
    if (index === undefined) {
      index = this.keys.size;
      this.keys.set(text, index);
      this.keyList += index === 0 ? text : `,${text}`;
    }
    this.lastKey = { space, subscription, fn, index };
    return index;
  }
}

/** An entry of the same emit as `first`: its event the same but for its own `deliveryid`. */
function sameEmit(entry: JournalEntry, first: JournalEntry): boolean {
  if (entry.acceptedAt !== first.acceptedAt) return false;
  if (entry.traceparent !== first.traceparent || entry.tracestate !== first.tracestate) {
    return false;
  }
  const event = entry.event as unknown as Record<string, unknown>;
  const base = first.event as unknown as Record<string, unknown>;
  if (event[DELIVERY_ID] !== entry.deliveryId) return false;
  const keys = Object.keys(event);
  if (keys.length !== Object.keys(base).length) return false;
  return keys.every((key) => key === DELIVERY_ID || event[key] === base[key]);
}

/**
 * Reads a Kafka journal record: format 4 (see {@link KafkaGroup}), or any format
 * `decodeEntries` reads (lists of entries, compact records and their groups). An emit that cannot
 * be read is set aside and said in `damage`; the others resume.
 */
export function decodeKafkaRecord(bytes: Uint8Array): DecodedEntries {
  // Only format 4 starts so (JSON.stringify writes no space): the rest is decodeEntries's.
  if (bytes[0] !== 0x7b || bytes[1] !== 0x22 || bytes[2] !== 0x76 || bytes[5] !== 0x34) {
    return decodeEntries(bytes);
  }
  let value: { v?: unknown; t?: unknown; k?: unknown; g?: unknown };
  try {
    value = decodeJson(bytes) as typeof value;
  } catch (error) {
    return { entries: [], damage: (error as Error).message };
  }
  const { t, k, g } = value ?? {};
  if (value?.v !== 4 || typeof t !== 'number' || !Array.isArray(k) || !Array.isArray(g)) {
    return decodeEntries(bytes);
  }
  const entries: JournalEntry[] = [];
  const bad: number[] = [];
  g.forEach((item: unknown, index) => {
    const read =
      Array.isArray(item) && typeof item[0] === 'number' ? fromEmit(item, t, k) : fromOther(item);
    if (!read) bad.push(index);
    else for (const entry of read) entries.push(entry);
  });
  return partly(entries, bad, g.length, 'emits');
}

/** An emit written by `KafkaGroup.add`'s fallback (an `encodeEntries` record). */
function fromOther(item: unknown): JournalEntry[] | undefined {
  const { entries, damage } = decodeEntries(Buffer.from(JSON.stringify(item) ?? 'null'));
  return damage === undefined && entries.length > 0 ? entries : undefined;
}

function fromEmit(item: unknown[], t0: number, keys: unknown[]): JournalEntry[] | undefined {
  const [dt, deliveries, event, traceparent, tracestate] = item;
  if (typeof dt !== 'number' || !Array.isArray(deliveries) || deliveries.length === 0) {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  const base = event as Record<string, unknown>;
  const entries: JournalEntry[] = [];
  for (let i = 0; i < deliveries.length; i++) {
    const delivery: unknown = deliveries[i];
    if (!Array.isArray(delivery)) return undefined;
    const [k, attempts, ownId] = delivery as unknown[];
    const key: unknown = typeof k === 'number' ? keys[k] : undefined;
    if (!Array.isArray(key) || key.length !== 3) return undefined;
    const deliveryId = i === 0 ? base[DELIVERY_ID] : ownId;
    const entry = {
      deliveryId,
      space: key[0],
      event: i === 0 ? base : { ...base, [DELIVERY_ID]: deliveryId },
      subscriptionId: key[1],
      functionId: key[2],
      attempts,
      acceptedAt: t0 + dt,
      // A trace context of the wrong type is left out: the delivery resumes untraced.
      ...(typeof traceparent === 'string' && { traceparent }),
      ...(typeof tracestate === 'string' && { tracestate }),
    };
    if (!isEntry(entry)) return undefined;
    entries.push(entry);
  }
  return entries;
}
