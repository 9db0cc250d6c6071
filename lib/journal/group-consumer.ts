import type { KafkaBatchPayload, KafkaConsumer } from '../clients/kafka-client';

/** What a {@link GroupConsumer} needs. */
export interface GroupConsumerOptions {
  /** Makes a kafkajs consumer (each restart gets a fresh one). */
  create(): KafkaConsumer;
  readonly topic: string;
  onBatch(payload: KafkaBatchPayload): Promise<void>;
  /** The partitions of the topic assigned here after a (re)join. */
  onAssigned(partitions: readonly number[]): void;
  /** The consumer failed; it restarts after `retryIn` ms. */
  onCrash(error: unknown, retryIn: number): void;
  /** First wait before a restart, in ms (doubled up to 30 s, reset on join). @default 300 */
  readonly initialRetryTime?: number;
  /** Where a group without committed offsets starts: the oldest record, or the next one. @default true */
  readonly fromBeginning?: boolean;
}

const MAX_RETRY_TIME = 30_000;

/**
 * A kafkajs consumer group member that restarts itself after a crash and stops cleanly. kafkajs's
 * own restart is off: a consumer it restarts while `disconnect()` runs can be left fetching
 * from a disconnected cluster in a loop that never yields (seen here as a hung, spinning
 * process). Here every start is awaited before a stop, and nothing starts once stopped.
 */
export class GroupConsumer {
  private consumer: KafkaConsumer | undefined;
  /** The current start: connect, subscribe, and run until joined (or crashed). */
  private starting: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private retryIn: number;
  private stopped = false;

  constructor(private readonly options: GroupConsumerOptions) {
    this.retryIn = options.initialRetryTime ?? 300;
  }

  /** Connects and subscribes (rejects when it cannot), then joins in the background. */
  async start(): Promise<void> {
    if (this.stopped) return;
    const consumer = this.options.create();
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.retryIn = this.options.initialRetryTime ?? 300;
      this.options.onAssigned(event.payload.memberAssignment?.[this.options.topic] ?? []);
    });
    consumer.on(consumer.events.CRASH, (event) => this.crashed(event.payload.error));
    const connecting = (async () => {
      await consumer.connect();
      await consumer.subscribe({
        topics: [this.options.topic],
        fromBeginning: this.options.fromBeginning ?? true,
      });
    })();
    // A stop() from now on waits for this start before it disconnects.
    this.starting = connecting.catch(() => undefined);
    try {
      await connecting;
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    // Stopped while connecting: stop() disconnects it; it must not start fetching.
    if (this.stopped) return;
    // Joins in the background (the broker's rebalance delay, 3 s by default, and more); resolves
    // once joined, or once a failure to join was handled as a crash.
    this.starting = consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.options.onBatch(payload),
      })
      .catch((error: unknown) => this.crashed(error));
  }

  /** Commits offsets through the current member. */
  commit(
    offsets: { topic: string; partition: number; offset: string; metadata?: string }[],
  ): Promise<void> {
    if (!this.consumer) return Promise.reject(new Error('the consumer is not running'));
    return this.consumer.commitOffsets(offsets);
  }

  /** Stops for good: waits for a start in progress, then disconnects. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.stopConsumer();
  }

  private crashed(error: unknown): void {
    if (this.stopped) return;
    const retryIn = this.retryIn;
    this.retryIn = Math.min(this.retryIn * 2, MAX_RETRY_TIME);
    this.options.onCrash(error, retryIn);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      // kafkajs disconnected the crashed consumer; a fresh one joins in its place.
      this.start().catch((failure: unknown) => this.crashed(failure));
    }, retryIn);
    this.restartTimer.unref();
  }

  private async stopConsumer(): Promise<void> {
    await this.starting;
    await this.consumer?.disconnect();
  }
}
