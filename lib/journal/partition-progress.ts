import type { JournalEntry } from './journal';
import {
  decodeMarks,
  encodeMarks,
  isMarked,
  marksAt,
  MARKS_BYTES,
  type MarkedRecord,
  type ReadMarks,
} from './finished-marks';

/** A record taken from a partition: its offset, and how many of its deliveries have not ended. */
export interface Taken {
  readonly partition: number;
  readonly offset: string;
  remaining: number;
  readonly deliveryIds: readonly string[];
  /** Which of its deliveries (by index) ended, once some did: written as finished marks. */
  finished?: Uint8Array;
}

/** A taken delivery: its record, and its index there. */
interface Slot {
  readonly taken: Taken;
  readonly index: number;
}

interface Partition {
  /** Records taken and not yet committed past, in offset order. */
  readonly queue: Taken[];
  /** The offset after the last record taken. */
  next: bigint;
  /** The last offset committed, and the marks committed with it. */
  committed?: string;
  committedMarks?: string;
}

/** An offset to commit, with the finished marks of the records past it (the commit's metadata). */
export interface Committable {
  readonly partition: number;
  readonly offset: string;
  readonly metadata: string;
}

/**
 * Which records of each assigned partition have been taken and which of their deliveries have
 * ended, so that an offset is committed only past records whose deliveries have all ended (a
 * record ends late, its successors wait for it), and the commit carries the finished marks of the
 * records past it: a new owner of the partition (or this instance after a restart) makes only
 * their unfinished deliveries again.
 */
export class PartitionProgress {
  private readonly partitions = new Map<number, Partition>();
  private readonly byDelivery = new Map<string, Slot>();
  /** Marks read back from commits, for partitions not yet taken from here. */
  private readonly restored = new Map<number, { base: bigint; marks: ReadMarks }>();

  /** @param marksBytes most characters of marks per commit (0: none). @default MARKS_BYTES */
  constructor(public marksBytes = MARKS_BYTES) {}

  /** Deliveries taken and not ended. */
  get unfinished(): number {
    return this.byDelivery.size;
  }

  /** Whether this partition's records are being taken here (its state is this instance's own). */
  has(partition: number): boolean {
    return this.partitions.has(partition);
  }

  /** False for a record already taken (fetched again after a rebalance kept its partition here). */
  isNew(partition: number, offset: string): boolean {
    const state = this.partitions.get(partition);
    return state === undefined || BigInt(offset) >= state.next;
  }

  /**
   * Notes the marks committed with a partition's offset (read when it is assigned here): its
   * records' deliveries marked ended are not made again. Ignored for a partition already taken
   * from here, whose own state is newer.
   */
  restore(partition: number, offset: string, metadata: string | null | undefined): void {
    if (this.partitions.has(partition) || !/^\d+$/.test(offset)) return;
    const marks = decodeMarks(metadata);
    if (marks.last < 0) this.restored.delete(partition);
    else this.restored.set(partition, { base: BigInt(offset), marks });
  }

  /** Takes a record's entries; `open` are those to make (the rest ended before, as marked). */
  take(
    partition: number,
    offset: string,
    entries: readonly JournalEntry[],
  ): { taken: Taken; open: JournalEntry[] } {
    let state = this.partitions.get(partition);
    if (!state) this.partitions.set(partition, (state = { queue: [], next: 0n }));
    const marks = this.restoredMarks(partition, BigInt(offset));
    const deliveryIds = entries.map((entry) => entry.deliveryId);
    const taken: Taken = { partition, offset, remaining: 0, deliveryIds };
    const open: JournalEntry[] = [];
    for (let index = 0; index < entries.length; index++) {
      const id = deliveryIds[index];
      if (isMarked(marks, index)) {
        mark(taken, index);
        continue;
      }
      open.push(entries[index]);
      if (this.byDelivery.has(id)) continue;
      this.byDelivery.set(id, { taken, index });
      taken.remaining++;
    }
    state.queue.push(taken);
    state.next = BigInt(offset) + 1n;
    return { taken, open };
  }

  /** Notes deliveries that ended; true when that changed what a commit would say. */
  finished(deliveryIds: readonly string[]): boolean {
    let changed = false;
    for (const id of deliveryIds) {
      const slot = this.byDelivery.get(id);
      if (!slot) continue;
      this.byDelivery.delete(id);
      slot.taken.remaining--;
      mark(slot.taken, slot.index);
      changed = true;
    }
    return changed;
  }

  /** Forgets records the gateway would not take: they stay in Kafka, to be fetched again. */
  giveBack(partition: number, records: readonly Taken[]): void {
    const state = this.partitions.get(partition);
    if (!state || records.length === 0) return;
    const gone = new Set(records);
    const kept = state.queue.filter((taken) => !gone.has(taken));
    state.queue.length = 0;
    state.queue.push(...kept);
    state.next = BigInt(records[0].offset);
    for (const taken of records) this.forget(taken);
  }

  /** Forgets partitions no longer assigned here: their new owner commits them. */
  keepOnly(assigned: readonly number[]): void {
    for (const [partition, state] of this.partitions) {
      if (assigned.includes(partition)) continue;
      for (const taken of state.queue) this.forget(taken);
      this.partitions.delete(partition);
    }
    for (const partition of this.restored.keys()) {
      if (!assigned.includes(partition)) this.restored.delete(partition);
    }
  }

  /**
   * The offsets to commit now: past each partition's leading run of ended records, with the marks
   * of the records past it; only where either changed since the last commit.
   */
  committable(): Committable[] {
    const out: Committable[] = [];
    for (const [partition, state] of this.partitions) {
      let ended = 0;
      while (ended < state.queue.length && state.queue[ended].remaining === 0) ended++;
      if (ended > 0) state.queue.splice(0, ended);
      const offset = state.queue.length > 0 ? state.queue[0].offset : String(state.next);
      const metadata = this.marksOf(state.queue);
      if (offset !== state.committed || metadata !== state.committedMarks) {
        out.push({ partition, offset, metadata });
      }
    }
    return out;
  }

  /** Notes offsets (and marks) the broker accepted. */
  committed(offsets: readonly { partition: number; offset: string; metadata?: string }[]): void {
    for (const { partition, offset, metadata } of offsets) {
      const state = this.partitions.get(partition);
      if (!state) continue;
      state.committed = offset;
      state.committedMarks = metadata ?? '';
    }
  }

  /** The marks of a partition's queue (its first record is the committed offset). */
  private marksOf(queue: readonly Taken[]): string {
    if (this.marksBytes <= 0 || queue.length === 0) return '';
    const base = BigInt(queue[0].offset);
    const records: MarkedRecord[] = [];
    for (const taken of queue) {
      const marks = taken.remaining === 0 ? true : taken.finished;
      if (marks) records.push({ delta: Number(BigInt(taken.offset) - base), marks });
    }
    return encodeMarks(records, this.marksBytes);
  }

  /** The restored marks of a record, if any; drops a partition's once its records are past. */
  private restoredMarks(partition: number, offset: bigint) {
    const restored = this.restored.get(partition);
    if (!restored) return undefined;
    const delta = offset - restored.base;
    if (delta > BigInt(restored.marks.last)) {
      this.restored.delete(partition);
      return undefined;
    }
    return delta < 0n ? undefined : marksAt(restored.marks, Number(delta));
  }

  private forget(taken: Taken): void {
    for (const id of taken.deliveryIds) {
      if (this.byDelivery.get(id)?.taken === taken) this.byDelivery.delete(id);
    }
    taken.remaining = 0;
  }
}

/** Marks delivery `index` of a record ended. */
function mark(taken: Taken, index: number): void {
  const size = (taken.deliveryIds.length + 7) >> 3;
  taken.finished ??= new Uint8Array(size);
  taken.finished[index >> 3] |= 1 << (index & 7);
}
