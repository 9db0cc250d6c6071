import type { JournalEntry } from './journal';

/** One emit's deliveries, encoded before they are accepted (to know their bytes). */
export interface EncodedEntries {
  /** Each entry's JSON. */
  readonly json: string[];
  /** Their bytes in a group record, with a separator each. */
  readonly bytes: number;
}

/** What a wave writes as one group record, and how to settle the emits that wait on it. */
export interface Wave {
  /** The group record: a JSON list of the wave's entries. */
  readonly value: string;
  /** The deliveries it holds. */
  readonly ids: string[];
  /** The record's bytes. */
  readonly bytes: number;
  /** Resolves every emit of the wave, or rejects them all with `error`. */
  settle(error?: Error): void;
}

/** Encodes an emit's deliveries for a group record (see {@link PendingWave}). */
export function encodeForGroup(entries: readonly JournalEntry[]): EncodedEntries {
  const json = entries.map((entry) => JSON.stringify(entry));
  let bytes = 0;
  for (const text of json) bytes += Buffer.byteLength(text) + 1;
  return { json, bytes };
}

/**
 * The deliveries of a LocalJournal waiting for the next synced group record, and the emits
 * waiting on them: every emit added before `take()` shares that record's sync.
 */
export class PendingWave {
  private json: string[] = [];
  private ids: string[] = [];
  private bytes = 0;
  private waiters: { resolve(): void; reject(error: Error): void }[] = [];

  /** Deliveries waiting. */
  get size(): number {
    return this.ids.length;
  }

  /** Adds one emit's deliveries; resolves once their group is synced. */
  add(entries: readonly JournalEntry[], encoded: EncodedEntries): Promise<void> {
    for (let i = 0; i < entries.length; i++) {
      this.json.push(encoded.json[i]);
      this.ids.push(entries[i].deliveryId);
    }
    this.bytes += encoded.bytes;
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Takes what waits, as one group record (undefined when nothing waits). */
  take(): Wave | undefined {
    if (this.ids.length === 0) return undefined;
    const { json, ids, bytes, waiters } = this;
    this.json = [];
    this.ids = [];
    this.bytes = 0;
    this.waiters = [];
    return {
      value: `[${json.join(',')}]`,
      ids,
      // The separators counted one per entry: the brackets need one more.
      bytes: bytes + 1,
      settle(error) {
        for (const w of waiters) {
          if (error) w.reject(error);
          else w.resolve();
        }
      },
    };
  }
}
