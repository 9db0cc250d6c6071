import type { JournalEntry } from './journal';

/** A record taken from a partition: its offset, and how many of its deliveries have not ended. */
export interface Taken {
  readonly partition: number;
  readonly offset: string;
  remaining: number;
  readonly deliveryIds: readonly string[];
}

interface Partition {
  /** Records taken and not yet committed past, in offset order. */
  readonly queue: Taken[];
  /** The offset after the last record taken. */
  next: bigint;
  /** The last offset committed. */
  committed?: string;
}

/**
 * Which records of each assigned partition have been taken and which have ended, so that an
 * offset is committed only past records whose deliveries have all ended (a record ends late, its
 * successors wait for it: a new owner of the partition makes it, and maybe them, again).
 */
export class PartitionProgress {
  private readonly partitions = new Map<number, Partition>();
  private readonly byDelivery = new Map<string, Taken>();

  /** Deliveries taken and not ended. */
  get unfinished(): number {
    return this.byDelivery.size;
  }

  /** False for a record already taken (fetched again after a rebalance kept its partition here). */
  isNew(partition: number, offset: string): boolean {
    const state = this.partitions.get(partition);
    return state === undefined || BigInt(offset) >= state.next;
  }

  take(partition: number, offset: string, entries: readonly JournalEntry[]): Taken {
    let state = this.partitions.get(partition);
    if (!state) this.partitions.set(partition, (state = { queue: [], next: 0n }));
    const deliveryIds = entries.map((entry) => entry.deliveryId);
    const taken: Taken = { partition, offset, remaining: 0, deliveryIds };
    for (const id of deliveryIds) {
      if (this.byDelivery.has(id)) continue;
      this.byDelivery.set(id, taken);
      taken.remaining++;
    }
    state.queue.push(taken);
    state.next = BigInt(offset) + 1n;
    return taken;
  }

  /** Notes deliveries that ended; true when a record ended with them. */
  finished(deliveryIds: readonly string[]): boolean {
    let ended = false;
    for (const id of deliveryIds) {
      const taken = this.byDelivery.get(id);
      if (!taken) continue;
      this.byDelivery.delete(id);
      if (--taken.remaining === 0) ended = true;
    }
    return ended;
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
  }

  /** The offsets to commit now: past each partition's leading run of ended records. */
  committable(): { partition: number; offset: string }[] {
    const out: { partition: number; offset: string }[] = [];
    for (const [partition, state] of this.partitions) {
      let ended = 0;
      while (ended < state.queue.length && state.queue[ended].remaining === 0) ended++;
      if (ended > 0) state.queue.splice(0, ended);
      const offset = state.queue.length > 0 ? state.queue[0].offset : String(state.next);
      if (offset !== state.committed) out.push({ partition, offset });
    }
    return out;
  }

  /** Notes offsets the broker accepted. */
  committed(offsets: readonly { partition: number; offset: string }[]): void {
    for (const { partition, offset } of offsets) {
      const state = this.partitions.get(partition);
      if (state) state.committed = offset;
    }
  }

  private forget(taken: Taken): void {
    for (const id of taken.deliveryIds) {
      if (this.byDelivery.get(id) === taken) this.byDelivery.delete(id);
    }
    taken.remaining = 0;
  }
}
