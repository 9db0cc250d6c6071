import { JournalUnavailableError } from '../errors';
import { describeError } from '../model/describe-error';
import type { KafkaAdmin } from '../clients/kafka-client';
import type { PartitionProgress } from './partition-progress';

/** What a {@link CommittedMarks} reads with, and where it puts what it read. */
export interface CommittedMarksOptions {
  /** A kafkajs admin client (connected on first use). */
  readonly admin: KafkaAdmin;
  readonly groupId: string;
  readonly topic: string;
  readonly progress: PartitionProgress;
  /** Told when the marks cannot be read (the partitions then resume without them). */
  report(error: Error): void;
}

/**
 * Reads the finished marks committed with the offsets of partitions just assigned here (see
 * lib/journal/finished-marks.ts) into the journal's {@link PartitionProgress}, before their first
 * batch is taken. Marks that cannot be read leave the partitions to resume without them: their
 * partly finished records are made again in whole (at least once, nothing lost).
 *
 * @example
 * ```ts
 * const marks = new CommittedMarks({ admin, groupId, topic, progress, report });
 * marks.load([0, 1]); // on GROUP_JOIN, for partitions new here
 * await marks.loading; // before taking a batch
 * ```
 */
export class CommittedMarks {
  private connected: Promise<void> | undefined;
  private current: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: CommittedMarksOptions) {}

  /** The read in progress, if any: batches wait for it. */
  get loading(): Promise<void> | undefined {
    return this.current;
  }

  /** Reads the marks of `partitions` (after any read in progress). */
  load(partitions: readonly number[]): void {
    // A join seen while stopping (the consumer's stop waits for it) reads nothing: nothing
    // would disconnect a client connected now, and the process would not exit.
    if (this.stopped) return;
    const { admin, groupId, topic, progress } = this.options;
    const previous = this.current;
    const loading = (async () => {
      await previous;
      if (this.stopped) return;
      try {
        this.connected ??= admin.connect();
        await this.connected;
        const [read] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const { partition, offset, metadata } of read?.partitions ?? []) {
          if (partitions.includes(partition)) progress.restore(partition, offset, metadata);
        }
      } catch (error) {
        this.connected = undefined;
        if (this.stopped) return;
        this.options.report(
          new JournalUnavailableError(
            `The Kafka journal could not read its finished marks (the deliveries of partly finished records of partitions ${partitions.join(', ')} may be made again): ${describeError(error)}`,
            { cause: error },
          ),
        );
      }
    })();
    this.current = loading;
    void loading.finally(() => {
      if (this.current === loading) this.current = undefined;
    });
  }

  /** Reads no more, and disconnects the admin client if it connected (or is connecting). */
  async stop(): Promise<void> {
    this.stopped = true;
    const connected = this.connected;
    if (connected) {
      await connected.then(
        () => this.options.admin.disconnect(),
        () => undefined,
      );
    }
  }
}
