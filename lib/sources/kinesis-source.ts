import { describeError } from '../model/describe-error';
import type { Source, SourceContext } from './source';
import { awsClientConfig, requirePeer } from './source-peers';

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
  }>;
  destroy(): void;
}

/** A shard's lease state: the last sequence number whose record (and all before it) settled. */
interface ShardState {
  readonly checkpoint?: string;
}

/** An empty shard is asked again after this long, in ms. */
const IDLE_MS = 250;

/**
 * A Kinesis stream: each shard is a unit of work leased in the gateway's store, read by the one
 * instance holding its lease, with its checkpoint (the last sequence number settled, all before
 * it too) kept in that lease: a new owner resumes after it. Renewed every third of the lease
 * time; a dead instance's shards are taken over once their leases expire. Options: `streamName`,
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
  private readonly sdk = requirePeer<KinesisModule>(
    '@aws-sdk/client-kinesis',
    'awskinesis',
    '@aws-sdk/client-kinesis@3',
  );
  private readonly client: KinesisClient;
  private readonly stream: string;
  private readonly stop = new AbortController();
  /** The shards read here, and their readers. */
  private readonly readers = new Map<string, Promise<void>>();
  /** The shards whose lease the last round took or renewed. */
  private readonly held = new Set<string>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(private readonly context: SourceContext) {
    const { source } = context.record;
    this.stream = String(source.streamName);
    const { NodeHttpHandler } = requirePeer<{ NodeHttpHandler: new () => unknown }>(
      '@smithy/node-http-handler',
      'awskinesis',
      '@smithy/node-http-handler@4',
    );
    // HTTP/1.1: the client's default HTTP/2 handler is for SubscribeToShard, not used here.
    this.client = new this.sdk.KinesisClient({
      ...awsClientConfig(context.record),
      requestHandler: new NodeHttpHandler(),
    });
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

  async close(): Promise<void> {
    this.stop.abort();
    clearInterval(this.leaseTimer);
    await Promise.allSettled(this.readers.values());
    await Promise.allSettled([...this.readers.keys()].map((s) => this.context.leases.release(s)));
    this.client.destroy();
  }

  /** Takes or renews the lease of every shard it can, and reads those it holds. */
  private async balance(): Promise<void> {
    if (this.stop.signal.aborted) return;
    const listed = await this.client.send(
      new this.sdk.ListShardsCommand({ StreamName: this.stream }),
    );
    for (const { ShardId: shard } of listed.Shards ?? []) {
      if (!shard || this.stop.signal.aborted) continue;
      let held = false;
      try {
        held = await this.context.leases.hold(shard);
      } catch (error) {
        this.context.fail(new Error(`leasing ${shard}: ${describeError(error)}`));
      }
      if (held) this.held.add(shard);
      else this.held.delete(shard);
      if (held && !this.readers.has(shard)) {
        const reading = this.read(shard).catch((error: unknown) =>
          this.context.fail(new Error(`reading ${shard}: ${describeError(error)}`)),
        );
        this.readers.set(shard, reading);
        void reading.finally(() => this.readers.delete(shard));
      }
    }
    this.context.owned([...this.held]);
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
      // Written only while this instance still holds the lease (a compare-and-swap on it).
      saving = saving.then(() =>
        leases.claim<ShardState>(shard, (current) =>
          current?.owner === leases.owner ? { checkpoint: upTo } : undefined,
        ),
      );
      return saving;
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
  }

  /** Whether the last lease round kept this shard (a reader stops once another holds it). */
  private holds(shard: string): boolean {
    return this.held.has(shard);
  }
}
