import { loadKafka, type KafkaAdmin, type KafkaBatchPayload } from '../clients/kafka-client';
import { GroupConsumer } from '../journal/group-consumer';
import { defaultKafkaGroup } from '../model/connection';
import { describeError } from '../model/describe-error';
import { LAG_INTERVAL_MS, PeriodicReading } from './periodic-reading';
import type { Source, SourceContext, SourceLag } from './source';
import { kafkaSocketFactory } from './source-outbound';

/** How long after an acknowledgement its partition's offset is committed (acks coalesce). */
const COMMIT_DELAY_MS = 20;

/** A partition's messages in flight, and what is committed. */
interface PartitionProgress {
  /** Offsets delivered and not acknowledged. */
  readonly pending: Set<number>;
  /** The offset after the last message delivered. */
  next: number;
  /** The offset last committed (the next record the group reads). */
  committed: number;
  /** The partition's high watermark as of the last batch fetched. */
  highWatermark: number;
  /** When that batch was fetched (ms since the epoch). */
  fetchedAt: number;
}

/** What the admin client says of a partition. */
interface PartitionTip {
  readonly high: number;
  /** The next offset the group reads: its committed one, or where a new group starts. */
  readonly next: number;
}

/**
 * A Kafka topic through a consumer group (kafkajs, an optional peer, through the gateway's one
 * Kafka client module): the group shares the topic's partitions among the instances running the
 * connection. A partition's offset is committed only past messages whose events were accepted
 * (the lowest offset still in flight bounds it), so a member that dies leaves its uncommitted
 * messages to the next owner. Options: `brokers` (comma-separated `host:port`), `topic`,
 * `groupId` (default `event-gateway.<space>.<connectionId>`), `fromBeginning` (a new group's
 * start, default true), `ssl`, and SASL: `saslMechanism` (`plain`, `scram-sha-256` or
 * `scram-sha-512`) with `saslUsername` and `saslPassword` (a secret, masked like a function's).
 * @example
 * ```ts
 * await gateway.createConnection({
 *   connectionId: 'orders', type: 'kafka', source: { brokers: 'localhost:9092', topic: 'orders' },
 *   cloudEvents: true,
 * });
 * ```
 */
export function kafkaSource(context: SourceContext): Source {
  return new KafkaSource(context);
}

/** How often a paused source heartbeats its group (kafkajs's heartbeatInterval below). */
const PAUSED_HEARTBEAT_MS = 1000;

class KafkaSource implements Source {
  private readonly topic: string;
  private readonly group: GroupConsumer;
  private readonly partitions = new Map<number, PartitionProgress>();
  private readonly commitTimers = new Map<number, NodeJS.Timeout>();
  private paused = false;
  private closed = false;
  /** Batches waiting for `resume()` (or `close()`): woken at once, not on their next poll. */
  private readonly waiting = new Set<() => void>();
  private readonly admin: KafkaAdmin;
  private readonly groupId: string;
  private readonly fromBeginning: boolean;
  private adminConnected: Promise<void> | undefined;
  /** The partitions the group gave this member. */
  private assigned: readonly number[] = [];
  /**
   * Each partition's high watermark and the group's next offset there, read every 5 s: a paused
   * source (or one whose batches are far apart) fetches no batch to learn them from.
   */
  private readonly tips = new PeriodicReading<Map<number, PartitionTip>>(() => this.readTips());

  constructor(private readonly context: SourceContext) {
    const { record } = context;
    const { source } = record;
    this.topic = String(source.topic);
    const { Kafka, logLevel } = loadKafka('kafka connections');
    const kafka = new Kafka({
      clientId: 'event-gateway',
      brokers: String(source.brokers)
        .split(',')
        .map((broker) => broker.trim()),
      ssl: source.ssl === true,
      // SASL (PLAIN or SCRAM) when the connection names a mechanism (validated as a set).
      ...(source.saslMechanism === undefined
        ? {}
        : {
            sasl: {
              mechanism: source.saslMechanism,
              username: source.saslUsername,
              password: source.saslPassword,
            },
          }),
      logLevel: logLevel.NOTHING,
      retry: { retries: 3, initialRetryTime: 100 },
      // Each broker connection (the seed brokers and those the cluster names) is checked.
      ...(context.outbound ? { socketFactory: kafkaSocketFactory(context.outbound) } : {}),
    });
    this.admin = kafka.admin();
    const groupId = String(source.groupId ?? defaultKafkaGroup(record.space, record.connectionId));
    this.groupId = groupId;
    this.fromBeginning = source.fromBeginning !== false;
    this.group = new GroupConsumer({
      create: () => kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 }),
      topic: this.topic,
      fromBeginning: this.fromBeginning,
      onBatch: (payload) => this.batch(payload),
      onAssigned: (assigned) => {
        // Messages of a partition that moved away are the new owner's: their acks commit nothing.
        for (const partition of this.partitions.keys()) {
          if (!assigned.includes(partition)) this.partitions.delete(partition);
        }
        this.assigned = [...assigned];
        context.owned(assigned.map((partition) => `${this.topic}/${partition}`));
      },
      onCrash: (error, retryIn) =>
        context.fail(
          new Error(
            `the Kafka consumer failed (restarting in ${retryIn} ms): ${describeError(error)}`,
            { cause: error },
          ),
        ),
    });
  }

  async start(): Promise<void> {
    await this.group.start();
    this.tips.start();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wakeAll();
  }

  /**
   * Messages behind, over the partitions this member owns: each one's high watermark (the latest
   * of its last batch's and the last read) minus its committed offset. Unknown before any batch
   * or read, and unknown (not the last batch's figure) for a partition whose offsets the last
   * read could not give (it failed or timed out) and whose last batch is older than the reads'
   * interval (5 s): a paused source fetches nothing, so that batch's high watermark says nothing
   * of what was produced since. One partition unknown makes the sum unknown.
   */
  lag(): SourceLag {
    const read = this.tips.value;
    const fresh = Date.now() - LAG_INTERVAL_MS;
    let known = false;
    let behind = 0;
    for (const partition of this.assigned) {
      const progress = this.partitions.get(partition);
      const tip = read?.get(partition);
      if (progress) {
        if (!tip && progress.fetchedAt < fresh) return {};
        const high = Math.max(progress.highWatermark, tip?.high ?? 0);
        behind += Math.max(0, high - progress.committed);
      } else if (tip) {
        // Nothing fetched from it here yet (paused, or just assigned): the group's position.
        behind += Math.max(0, tip.high - tip.next);
      } else continue;
      known = true;
    }
    return known ? { lagMessages: behind } : {};
  }

  /** Each partition's high watermark and the group's next offset (an admin client). */
  private async readTips(): Promise<Map<number, PartitionTip> | undefined> {
    if (this.closed) return undefined;
    this.adminConnected ??= this.admin.connect().catch((error: unknown) => {
      this.adminConnected = undefined;
      throw error;
    });
    await this.adminConnected;
    const [offsets, [group]] = await Promise.all([
      this.admin.fetchTopicOffsets(this.topic),
      this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] }),
    ]);
    const committed = new Map(
      (group?.partitions ?? []).map(({ partition, offset }) => [partition, Number(offset)]),
    );
    return new Map(
      offsets.map(({ partition, high, low }) => {
        const done = committed.get(partition) ?? -1;
        const start = this.fromBeginning ? Number(low) : Number(high);
        return [partition, { high: Number(high) || 0, next: done >= 0 ? done : start || 0 }];
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeAll();
    for (const timer of this.commitTimers.values()) clearTimeout(timer);
    this.commitTimers.clear();
    this.tips.stop();
    const admin = this.adminConnected?.then(() => this.admin.disconnect()).catch(() => undefined);
    await Promise.all([this.group.stop(), admin]);
  }

  /**
   * Delivers a batch message by message; while paused, waits (heartbeating) before the next. The
   * fetch position moves past what was delivered before each wait and at the end (kafkajs
   * resolves an offset through a Long parse: once per run of messages, not per message).
   */
  private async batch(payload: KafkaBatchPayload): Promise<void> {
    const { partition, messages } = payload.batch;
    const highWatermark = Number(payload.batch.highWatermark);
    const fetchedAt = Date.now();
    let progress = this.partitions.get(partition);
    let unresolved: string | undefined;
    const resolve = () => {
      if (unresolved !== undefined) payload.resolveOffset(unresolved);
      unresolved = undefined;
    };
    for (const message of messages) {
      if (this.paused) resolve();
      while (this.paused && !this.closed && payload.isRunning() && !payload.isStale()) {
        await this.resumed();
        await payload.heartbeat();
      }
      if (this.closed || !payload.isRunning() || payload.isStale()) return resolve();
      const offset = Number(message.offset);
      if (!progress || this.partitions.get(partition) !== progress) {
        progress = {
          pending: new Set(),
          next: offset,
          committed: offset,
          highWatermark: 0,
          fetchedAt,
        };
        this.partitions.set(partition, progress);
      }
      const owner = progress;
      // A broker that gave no high watermark: this message is the last known.
      const tip = Number.isFinite(highWatermark) ? highWatermark : offset + 1;
      owner.highWatermark = Math.max(owner.highWatermark, tip);
      owner.fetchedAt = fetchedAt;
      owner.pending.add(offset);
      owner.next = offset + 1;
      // The fetch position moves on; the committed offset waits for the acks.
      unresolved = message.offset;
      const type = message.headers?.['content-type'];
      this.context.deliver({
        id: `${partition}-${message.offset}`,
        body: message.value ?? Buffer.alloc(0),
        time: new Date(Number(message.timestamp)),
        ...(type === undefined ? {} : { contentType: String(type) }),
        ack: async () => {
          owner.pending.delete(offset);
          this.commitSoon(partition, owner);
        },
      });
    }
    resolve();
  }

  /**
   * Resolves on `resume()` or `close()`, or after a heartbeat interval so that a long pause keeps
   * the group membership (a 25 ms poll capped a paused source at ~40 batches a second).
   */
  private resumed(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, PAUSED_HEARTBEAT_MS).unref();
      this.waiting.add(done);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }

  private commitSoon(partition: number, progress: PartitionProgress): void {
    if (this.commitTimers.has(partition) || this.closed) return;
    const timer = setTimeout(() => {
      this.commitTimers.delete(partition);
      void this.commit(partition, progress);
    }, COMMIT_DELAY_MS);
    timer.unref();
    this.commitTimers.set(partition, timer);
  }

  /** Commits up to the lowest offset in flight (or past the last delivered when none is). */
  private async commit(partition: number, progress: PartitionProgress): Promise<void> {
    if (this.partitions.get(partition) !== progress) return;
    const upTo = progress.pending.size > 0 ? Math.min(...progress.pending) : progress.next;
    if (upTo <= progress.committed) return;
    try {
      await this.group.commit([{ topic: this.topic, partition, offset: String(upTo) }]);
      progress.committed = Math.max(progress.committed, upTo);
    } catch (error) {
      // Not committed: those messages may come again (after a rebalance), never lost.
      this.context.fail(
        new Error(`committing ${this.topic}/${partition}: ${describeError(error)}`),
      );
    }
  }
}
