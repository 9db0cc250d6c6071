import { describeError } from '../model/describe-error';
import type { Source, SourceContext, SourceLag } from './source';
import { requireOptionalPeer } from '../model/optional-peer';
import { awsClientConfig } from './source-peers';

/** What the Kinesis source uses of @aws-sdk/client-kinesis 3 (an optional peer, lazy). */
interface KinesisModule {
  KinesisClient: new (config: Record<string, unknown>) => KinesisClient;
  ListShardsCommand: new (input: Record<string, unknown>) => unknown;
  GetShardIteratorCommand: new (input: Record<string, unknown>) => unknown;
  GetRecordsCommand: new (input: Record<string, unknown>) => unknown;
}

interface KinesisClient {
  // The outputs of the three commands used, as far as they are read.
  send(
    command: unknown,
    options?: { abortSignal?: AbortSignal },
  ): Promise<{
    Shards?: { ShardId?: string }[];
    ShardIterator?: string;
    NextShardIterator?: string;
    Records?: { SequenceNumber?: string; Data?: Uint8Array; ApproximateArrivalTimestamp?: Date }[];
    MillisBehindLatest?: number;
  }>;
  destroy(): void;
}

/** A shard's lease state: the last sequence number whose record (and all before it) settled. */
interface ShardState {
  readonly checkpoint?: string;
}

/** The lease units of the instances running the connection (`members/<instance ID>`). */
const MEMBER = 'members/';

/** An empty shard is asked again after this long, in ms. */
const IDLE_MS = 250;

/**
 * A Kinesis stream: each shard is a unit of work leased in the gateway's store, read by the one
 * instance holding its lease, with its checkpoint (the last sequence number settled, all before
 * it too) kept in that lease: a new owner resumes after it. The shards are spread across the live
 * instances (each holds at most ceil(shards / instances), counted from membership leases),
 * renewed every third of the lease time `leaseTtl`: a dead instance's shards are taken over
 * within `leaseTtl` plus a third of it (plus the clock skew between instances), and an instance
 * that joins gets its share within about two thirds of it. Options: `streamName`,
 * `region`, `endpoint`, AWS credentials.
 * @example
 * ```ts
 * await gateway.createConnection({
 *   connectionId: 'clicks', type: 'awskinesis',
 *   source: { streamName: 'clicks', region: 'eu-west-1' }, eventType: 'click',
 * });
 * ```
 */
export function kinesisSource(context: SourceContext): Source {
  return new KinesisSource(context);
}

class KinesisSource implements Source {
  private readonly sdk = requireOptionalPeer<KinesisModule>('@aws-sdk/client-kinesis', {
    feature: 'awskinesis connections',
    install: '@aws-sdk/client-kinesis@3',
  });
  private readonly client: KinesisClient;
  private readonly stream: string;
  private readonly stop = new AbortController();
  /** The shards read here, and their readers. */
  private readonly readers = new Map<string, Promise<void>>();
  /** The shards whose lease the last round took or renewed. */
  private readonly held = new Set<string>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private paused = false;
  /** The `MillisBehindLatest` of each shard read here, from its last GetRecords. */
  private readonly behind = new Map<string, number>();

  constructor(private readonly context: SourceContext) {
    const { source } = context.record;
    this.stream = String(source.streamName);
    this.client = new this.sdk.KinesisClient(awsClientConfig(context.record, context.outbound));
  }

  async start(): Promise<void> {
    // Fails the start (retried by the run) when the stream cannot be listed.
    await this.balance();
    const every = Math.max(100, Math.floor(this.context.leases.ttl / 3));
    this.leaseTimer = setInterval(() => void this.balance(), every);
    this.leaseTimer.unref();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** The largest `MillisBehindLatest` of the shards read here; unknown before any was read. */
  lag(): SourceLag {
    if (this.behind.size === 0) return {};
    let most = 0;
    for (const ms of this.behind.values()) most = Math.max(most, ms);
    return { lagMs: most };
  }

  async close(): Promise<void> {
    this.stop.abort();
    clearInterval(this.leaseTimer);
    const reading = [...this.readers.keys()];
    await Promise.allSettled(this.readers.values());
    // Handed over with their checkpoints: the next owner goes on after them.
    const leases = this.context.leases;
    await Promise.allSettled([
      ...reading.map((shard) => leases.handOver(shard)),
      leases.release(MEMBER + leases.owner),
    ]);
    this.client.destroy();
  }

  /**
   * One round of the fleet's sharing: renews this instance's membership, counts the live members
   * (membership leases not expired), and holds its fair share of the shards, ceil(shards /
   * members): it renews those it holds up to that share, hands the rest over (with their
   * checkpoints), and takes free or expired shards while under it. Every instance running the
   * connection does the same every third of the lease time, so the shards spread across the
   * live instances; a dead instance's shards are taken within the lease time plus one round.
   */
  private async balance(): Promise<void> {
    if (this.stop.signal.aborted) return;
    const leases = this.context.leases;
    const listed = await this.client.send(
      new this.sdk.ListShardsCommand({ StreamName: this.stream }),
    );
    const shards = (listed.Shards ?? []).flatMap(({ ShardId }) => (ShardId ? [ShardId] : []));
    let current: Map<string, { owner: string; expires: number }>;
    try {
      await leases.hold(MEMBER + leases.owner);
      current = await leases.list();
    } catch (error) {
      // The store is out of reach: the leases held run out, and their readers stop with them.
      this.context.fail(new Error(`sharing the shards: ${describeError(error)}`, { cause: error }));
      return;
    }
    const now = Date.now();
    const live = (unit: string) => {
      const lease = current.get(unit);
      return lease !== undefined && lease.owner !== '' && lease.expires > now;
    };
    const members = [...current.keys()].filter((unit) => unit.startsWith(MEMBER) && live(unit));
    const share = Math.ceil(shards.length / Math.max(1, members.length));
    const mine = shards.filter(
      (shard) => live(shard) && current.get(shard)?.owner === leases.owner,
    );
    const free = shards.filter((shard) => !live(shard));
    const held = new Set<string>();
    for (const shard of [...mine.slice(0, share), ...free]) {
      if (held.size >= share || this.stop.signal.aborted) break;
      try {
        if (await leases.hold(shard)) held.add(shard);
      } catch (error) {
        this.context.fail(new Error(`leasing ${shard}: ${describeError(error)}`, { cause: error }));
      }
    }
    this.held.clear();
    for (const shard of held) this.held.add(shard);
    // Past the share: their readers stop, then the leases go (with their checkpoints).
    for (const shard of mine.slice(share)) void this.handOver(shard);
    for (const shard of held) {
      if (this.readers.has(shard)) continue;
      const reading = this.read(shard).catch((error: unknown) =>
        this.context.fail(new Error(`reading ${shard}: ${describeError(error)}`, { cause: error })),
      );
      this.readers.set(shard, reading);
      void reading.finally(() => {
        this.readers.delete(shard);
        // Read elsewhere now: its lag is the new owner's to report.
        this.behind.delete(shard);
      });
    }
    this.context.owned([...held].sort());
  }

  /** Hands a shard's lease over once its reader stopped (unless this instance took it again). */
  private async handOver(shard: string): Promise<void> {
    await this.readers.get(shard);
    if (this.held.has(shard)) return;
    await this.context.leases
      .handOver(shard)
      .catch((error: unknown) =>
        this.context.fail(new Error(`handing ${shard} over: ${describeError(error)}`)),
      );
  }

  /** Reads a shard from its checkpoint while this instance holds its lease. */
  private async read(shard: string): Promise<void> {
    const leases = this.context.leases;
    const lease = await leases.read<ShardState>(shard);
    const checkpoint = lease?.state?.checkpoint;
    let iterator = (
      await this.client.send(
        new this.sdk.GetShardIteratorCommand({
          StreamName: this.stream,
          ShardId: shard,
          ...(checkpoint
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: checkpoint }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      )
    ).ShardIterator;
    /** Sequence numbers delivered in order, and those of them settled. */
    const inFlight: string[] = [];
    const settled = new Set<string>();
    /** The checkpoint writes, in order (never rejects). */
    let saving: Promise<unknown> = Promise.resolve();
    const settle = (sequence: string) => {
      settled.add(sequence);
      let last: string | undefined;
      while (inFlight.length > 0 && settled.has(inFlight[0])) {
        last = inFlight.shift() as string;
        settled.delete(last);
      }
      if (last === undefined) return;
      const upTo = last;
      // Written only while this instance still holds the lease (a compare-and-swap on it), in
      // order; a write that failed (its ack reports it) does not stop the next ones.
      const write = saving.then(() =>
        leases.claim<ShardState>(shard, (current) =>
          current?.owner === leases.owner ? { checkpoint: upTo } : undefined,
        ),
      );
      saving = write.catch(() => undefined);
      return write;
    };
    while (iterator && !this.stop.signal.aborted && this.holds(shard)) {
      if (this.paused) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const out = await this.client.send(
        new this.sdk.GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }),
        { abortSignal: this.stop.signal },
      );
      iterator = out.NextShardIterator;
      if (typeof out.MillisBehindLatest === 'number')
        this.behind.set(shard, out.MillisBehindLatest);
      for (const record of out.Records ?? []) {
        const sequence = record.SequenceNumber;
        if (!sequence) continue;
        inFlight.push(sequence);
        this.context.deliver({
          id: `${shard}-${sequence}`,
          body: Buffer.from(record.Data ?? new Uint8Array()),
          ...(record.ApproximateArrivalTimestamp
            ? { time: new Date(record.ApproximateArrivalTimestamp) }
            : {}),
          ack: async () => void (await settle(sequence)),
        });
      }
      if ((out.Records ?? []).length === 0) await new Promise((r) => setTimeout(r, IDLE_MS));
    }
    // The checkpoints under way are written before the lease is handed over.
    await saving;
  }

  /** Whether the last lease round kept this shard (a reader stops once another holds it). */
  private holds(shard: string): boolean {
    return this.held.has(shard);
  }
}
