import type { JournalEntry } from './journal';
import { encodeEntries, GROUP_OVERHEAD, encodeGroup } from './journal-records';

/** One emit's deliveries, encoded before they are accepted (to know their bytes). */
export interface EncodedEntries {
  /** The emit's record (see `encodeEntries`): its event's JSON once, shared by its deliveries. */
  readonly record: string;
  /** Its bytes in a group record, with a separator. */
  readonly bytes: number;
}

/** What a wave writes as one group record, and how to settle the emits that wait on it. */
export interface Wave {
  /** The group record (see `encodeGroup`): each emit's record once. */
  readonly value: string;
  /** The deliveries it holds. */
  readonly ids: string[];
  /** The record's bytes. */
  readonly bytes: number;
  /** Resolves every emit of the wave, or rejects them all with `error`. */
  settle(error?: Error): void;
}

/**
 * Encodes an emit's deliveries for a group record (see {@link PendingWave}): one record per emit,
 * not one JSON text per delivery (an event with N subscriptions was stringified N times, and the
 * wave held N copies of it).
 */
export function encodeForGroup(entries: readonly JournalEntry[]): EncodedEntries {
  const record = encodeEntries(entries);
  return { record, bytes: Buffer.byteLength(record) + 1 };
}

/** The bytes a group record adds to its emits' records (each counted with a separator). */
export const WAVE_OVERHEAD = GROUP_OVERHEAD - 1;

/**
 * The deliveries of a LocalJournal waiting for the next synced group record, and the emits
 * waiting on them: every emit added before `take()` shares that record's sync.
 */
export class PendingWave {
  private records: string[] = [];
  private ids: string[] = [];
  private bytes = 0;
  /**
   * The one promise every emit of the wave waits on (a promise and two closures per emit cost
   * more than the emit's record; they all settle alike, with the same error if the write fails).
   */
  private waiting: Settled | undefined;

  /** Deliveries waiting. */
  get size(): number {
    return this.ids.length;
  }

  /** Adds one emit's deliveries; resolves once their group is synced. */
  add(entries: readonly JournalEntry[], encoded: EncodedEntries): Promise<void> {
    this.records.push(encoded.record);
    for (let i = 0; i < entries.length; i++) this.ids.push(entries[i].deliveryId);
    this.bytes += encoded.bytes;
    return (this.waiting ??= settled()).promise;
  }

  /** Takes what waits, as one group record (undefined when nothing waits). */
  take(): Wave | undefined {
    if (this.ids.length === 0) return undefined;
    const { records, ids, bytes, waiting } = this;
    this.records = [];
    this.ids = [];
    this.bytes = 0;
    this.waiting = undefined;
    return {
      value: encodeGroup(records),
      ids,
      bytes: bytes + WAVE_OVERHEAD,
      settle(error) {
        if (error) waiting?.reject(error);
        else waiting?.resolve();
      },
    };
  }
}

/** A promise and the functions that settle it. */
interface Settled {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function settled(): Settled {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}
