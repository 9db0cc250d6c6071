import type { Store } from '../store/store';

/** A lease's stored value: who holds it, until when, and what the holder keeps with it. */
export interface LeaseValue<T = unknown> {
  readonly owner: string;
  /** Epoch ms after which any instance may take the lease over. */
  readonly expires: number;
  readonly state?: T;
}

/**
 * Leases for units of work in the gateway's own store: one key per unit beside the
 * configuration, written with compare-and-swap on its modification revision, so that of two
 * instances racing for a unit exactly one wins. A lease not renewed expires after `ttl` ms: a
 * dead instance's units are taken over within that time (plus the clock skew between instances).
 */
export class StoreLeases {
  constructor(
    private readonly store: Store,
    /** The key prefix of this connection's leases (ends with `/`). */
    private readonly prefix: string,
    /** This instance's ID. */
    readonly owner: string,
    /** How long a lease lasts without renewal, in ms. */
    readonly ttl: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads a lease; undefined when it was never taken or its value is not a lease. */
  async read<T>(unit: string): Promise<LeaseValue<T> | undefined> {
    const kv = await this.store.get(this.prefix + unit);
    return kv && parseLease<T>(kv.value);
  }

  /**
   * Takes or renews the lease of `unit` if `decide` allows it: `decide` sees the current lease
   * (undefined when absent or not a lease) and whether it expired, and returns the state to hold
   * it with, or undefined to leave it. Resolves true when this instance wrote the lease: the
   * write is a compare-and-swap, so a concurrent winner makes it false.
   * @example
   * ```ts
   * const mine = await leases.claim('shard-1', (current, expired) =>
   *   !current || expired || current.owner === leases.owner ? {} : undefined);
   * ```
   */
  async claim<T>(
    unit: string,
    decide: (current: LeaseValue<T> | undefined, expired: boolean) => T | undefined,
  ): Promise<boolean> {
    const key = this.prefix + unit;
    const kv = await this.store.get(key);
    const current = kv && parseLease<T>(kv.value);
    const now = this.now();
    const state = decide(current, current === undefined || current.expires <= now);
    if (state === undefined) return false;
    const value: LeaseValue<T> = { owner: this.owner, expires: now + this.ttl, state };
    const result = await this.store.put(key, JSON.stringify(value), {
      ifModRevision: kv?.modRevision ?? 0,
    });
    return result.succeeded;
  }

  /** Takes the lease when free or expired, or renews it when this instance holds it. */
  hold(unit: string): Promise<boolean> {
    return this.claim(unit, (current, expired) =>
      current === undefined || expired || current.owner === this.owner
        ? (current?.state ?? {})
        : undefined,
    );
  }

  /**
   * Every lease under this connection's prefix, by unit (those whose value is a lease), read in
   * pages at one revision.
   */
  async list<T>(): Promise<Map<string, LeaseValue<T>>> {
    const out = new Map<string, LeaseValue<T>>();
    let after: string | undefined;
    let revision: number | undefined;
    for (;;) {
      const page = await this.store.list(this.prefix, { limit: 500, after, revision });
      revision = page.revision;
      for (const kv of page.items) {
        const lease = parseLease<T>(kv.value);
        if (lease) out.set(kv.key.slice(this.prefix.length), lease);
      }
      if (!page.more || page.items.length === 0) return out;
      after = page.items[page.items.length - 1].key;
    }
  }

  /**
   * Hands the lease over, if this instance holds it: it is left expired and ownerless with its
   * state (a checkpoint), so that the next instance to take it goes on from there.
   */
  async handOver(unit: string): Promise<void> {
    const key = this.prefix + unit;
    const kv = await this.store.get(key);
    const lease = kv && parseLease(kv.value);
    if (!kv || lease?.owner !== this.owner) return;
    const value: LeaseValue = { owner: '', expires: 0, state: lease.state };
    await this.store.put(key, JSON.stringify(value), { ifModRevision: kv.modRevision });
  }

  /** Gives the lease up, if this instance holds it (another may take it at once). */
  async release(unit: string): Promise<void> {
    const key = this.prefix + unit;
    const kv = await this.store.get(key);
    if (kv && parseLease(kv.value)?.owner === this.owner) {
      await this.store.delete(key, { ifModRevision: kv.modRevision });
    }
  }
}

function parseLease<T>(text: string): LeaseValue<T> | undefined {
  try {
    const value = JSON.parse(text) as LeaseValue<T>;
    return typeof value?.owner === 'string' && typeof value.expires === 'number'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}
