import { JournalRecordDamagedError, JournalUnavailableError } from '../errors';
import { optionsArgument } from '../model/checks';
import { describeError } from '../model/describe-error';
import type { Journal, JournalEntry, JournalSink, JournalSize } from './journal';
import { PartitionProgress, type Taken } from './partition-progress';
import { loadKafka, type KafkaBatchPayload, type KafkaProducer } from '../clients/kafka-client';
import { CommittedMarks } from './committed-marks';
import { GroupConsumer } from './group-consumer';
import { encodeEntries, encodeGroup } from './journal-records';
import { decodeKafkaRecord, KafkaGroup } from './kafka-group';
import { waitForFunctionsOption } from './waiting-deliveries';

/** Options of {@link KafkaJournal}. */
export interface KafkaJournalOptions {
  /**
   * The kafkajs client configuration (`new Kafka(client)`): `brokers`, `clientId`, `ssl`, `sasl`,
   * `retry`... `logLevel` defaults to kafkajs's ERROR level.
   */
  client: {
    /** The brokers to bootstrap from (`host:port`), or a function that finds them. */
    brokers: string[] | (() => string[] | Promise<string[]>);
    [option: string]: unknown;
  };
  /**
   * The topic deliveries are recorded on. Create it with the partitions and replication you need
   * (the consumers of the group share its partitions); brokers that auto-create topics make it
   * with their defaults.
   * @default 'event-gateway-journal'
   */
  topic?: string;
  /** The consumer group every gateway instance of the fleet joins. @default 'event-gateway' */
  groupId?: string;
  /** More kafkajs producer options (`transactionalId` and `idempotent` are not supported). */
  producer?: Record<string, unknown>;
  /** More kafkajs consumer options (`sessionTimeout`, `heartbeatInterval`...). */
  consumer?: Record<string, unknown>;
  /**
   * Most deliveries this instance holds taken and unfinished; past it, it stops fetching until
   * some end (the rest wait in Kafka).
   * @default 10000
   */
  maxUnfinished?: number;
  /** How often finished offsets are committed, in ms. @default 100 */
  commitInterval?: number;
  /**
   * How long a delivery this instance takes waits for its function to be configured and, for a
   * `local` function, its handler bound here, before it is dead-lettered, in ms (see
   * `Journal.waitForFunctions`). Waiting deliveries count in `maxUnfinished` and keep their
   * record's offset uncommitted: another instance makes them if this one dies.
   * @default Infinity
   */
  waitForFunctions?: number;
  /**
   * Write compact records (the event once per emit, about half the bytes; the emits of one
   * produce request grouped, up to 64 of them and 64 KiB in one Kafka record, which costs kafkajs
   * far less than a record per emit). Every version reads
   * the older list format, but versions before compact records cannot read them (they report and
   * pass over each one): set `false` until every instance of the fleet runs this version or later.
   * @default true
   */
  compactRecords?: boolean;
  /**
   * The compact format written: 4 (the emits of a record share their space, subscription and
   * function IDs and time; about two thirds of format 3's bytes, see `KafkaGroup`), or 3 (a group
   * of format 2 records, as the versions before 4 write). Versions before format 4 cannot read it
   * (they report and pass over each record): set 3 until every instance of the fleet runs this
   * version or later. Every version since reads both.
   * @default 4
   */
  recordFormat?: 3 | 4;
}

/** A produce request's records, and the emits waiting for it. */
interface Pending {
  messages: { value: string }[];
  /** Compact records of emits not yet in `messages`: they go as one record (`encodeGroup`). */
  group: string[];
  /** Or, in format 4, the record they go in. */
  grouped?: KafkaGroup;
  /** Their bytes (as UTF-16 code units: the cap needs no more precision). */
  groupBytes: number;
  /** Emits waiting for it. */
  emits: number;
  /** What they all wait on (one promise per request, not one per emit), and how it settles. */
  done?: Promise<void>;
  settle?: { resolve(): void; reject(error: Error): void };
}

/**
 * Most bytes of emits' compact records grouped in one Kafka record: well under the brokers'
 * default `message.max.bytes` (1 MB); an emit larger than this goes in a record of its own.
 */
const GROUP_BYTES = 64 * 1024;

/**
 * Most emits grouped in one Kafka record (kafkajs's cost per event is ~2.4 µs at 64 per record,
 * ~1.8 at 1,000). A record's offset is committed once all its deliveries ended; until then the
 * commits carry finished marks of its ended deliveries (lib/journal/finished-marks.ts), so an
 * instance that dies leaves only its unfinished deliveries to be made again, whatever the group.
 */
const GROUP_EMITS = 64;

const nothingPending = (): Pending => ({ messages: [], group: [], groupBytes: 0, emits: 0 });

/**
 * A journal on a Kafka topic for a fleet of gateways (kafkajs, an optional peer dependency loaded
 * on open). `emit` resolves once its deliveries are produced with acks from all in-sync replicas;
 * produce requests are grouped (the emits that arrive while one is in flight share the next, in
 * as few records as fit, see `compactRecords`). The
 * instances form one consumer group: each makes the deliveries of the partitions it is assigned,
 * and commits a partition's offset only past records whose deliveries have all ended, with the
 * finished marks of the deliveries that ended past it (the commit's metadata, up to 4,000
 * characters), so when an instance dies, the one that takes its partitions makes only what it
 * had not finished (at least once: what was in flight, or ended within the last
 * `commitInterval`, may be made twice; so may what an instance had taken and not yet made when a
 * rebalance moves its partitions to a joining instance). Retries, `maxAge` and dead letters follow the gateway's
 * rules; attempt counts are not shared, so a delivery taken over starts its attempts again (its
 * age goes on).
 *
 * @example
 * ```ts
 * const journal = new KafkaJournal({ client: { brokers: ['kafka-1:9092', 'kafka-2:9092'] } });
 * const gateway = createGateway(store, { journal });
 * ```
 */
export class KafkaJournal implements Journal {
  readonly shared = true;
  private readonly topic: string;
  private readonly recordFormat: 3 | 4;
  private readonly maxUnfinished: number;
  private producer: KafkaProducer | undefined;
  private consumer: GroupConsumer | undefined;
  /** Reads the finished marks committed with the offsets of partitions assigned here. */
  private marks: CommittedMarks | undefined;
  private closedSignal!: () => void;
  private readonly closedPromise = new Promise<void>((resolve) => (this.closedSignal = resolve));
  private sink: JournalSink | undefined;
  private readonly progress = new PartitionProgress();
  private pending: Pending = nothingPending();
  private sending: Promise<void> | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private readonly roomWaiters = new Set<() => void>();
  private consumerDown = false;
  private closed = false;
  private produceRequests = 0;
  /** Records passed over because they could not be read. */
  private damaged = 0;
  /** See {@link KafkaJournalOptions.waitForFunctions}. */
  readonly waitForFunctions: number;

  constructor(private readonly options: KafkaJournalOptions) {
    optionsArgument(options, 'new KafkaJournal(options)');
    if (typeof options.client !== 'object' || options.client === null || !options.client.brokers) {
      throw new TypeError(
        'new KafkaJournal(options): "client" must be a kafkajs config with "brokers".',
      );
    }
    this.topic = options.topic ?? 'event-gateway-journal';
    this.recordFormat = options.recordFormat ?? 4;
    if (this.recordFormat !== 3 && this.recordFormat !== 4) {
      throw new TypeError('new KafkaJournal(options): "recordFormat" must be 3 or 4.');
    }
    this.maxUnfinished = options.maxUnfinished ?? 10_000;
    if (typeof this.topic !== 'string' || this.topic === '') {
      throw new TypeError('new KafkaJournal(options): "topic" must be a non-empty string.');
    }
    if (!Number.isInteger(this.maxUnfinished) || this.maxUnfinished < 1) {
      throw new TypeError('new KafkaJournal(options): "maxUnfinished" must be a positive integer.');
    }
    this.waitForFunctions = waitForFunctionsOption(
      options.waitForFunctions,
      'new KafkaJournal(options)',
    );
  }

  async open(sink: JournalSink): Promise<void> {
    this.sink = sink;
    const kafkajs = loadKafka();
    // kafkajs logs to the console by default: a library in someone's process reports instead.
    const kafka = new kafkajs.Kafka({ logLevel: kafkajs.logLevel.NOTHING, ...this.options.client });
    const producer = kafka.producer({
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
      ...this.options.producer,
      idempotent: false,
    });
    const retry = (this.options.consumer?.retry ?? {}) as { initialRetryTime?: number };
    this.producer = producer;
    this.marks = new CommittedMarks({
      admin: kafka.admin(),
      groupId: this.options.groupId ?? 'event-gateway',
      topic: this.topic,
      progress: this.progress,
      report: (error) => this.sink?.report(error),
    });
    this.consumer = new GroupConsumer({
      topic: this.topic,
      initialRetryTime: retry.initialRetryTime,
      create: () =>
        kafka.consumer({
          // An idle fetch waits this long; close() waits for it.
          maxWaitTimeInMs: 1000,
          ...this.options.consumer,
          groupId: this.options.groupId ?? 'event-gateway',
          // The GroupConsumer restarts it (see there why not kafkajs).
          retry: { ...retry, restartOnFailure: async () => false },
        }),
      onBatch: (payload) => this.consume(payload),
      onAssigned: (partitions) => {
        this.consumerDown = false;
        const fresh = partitions.filter((partition) => !this.progress.has(partition));
        // Partitions given to another instance are its to commit: forget them here.
        this.progress.keepOnly(partitions);
        if (fresh.length > 0) this.marks?.load(fresh);
      },
      onCrash: (error, retryIn) => {
        // Reported once per outage: it restarts until it joins again.
        if (this.consumerDown || this.closed) return;
        this.consumerDown = true;
        this.sink?.report(
          new JournalUnavailableError(
            `The Kafka journal's consumer failed (it restarts in ${retryIn} ms, and until the brokers answer): ${describeError(error)}`,
            { cause: error },
          ),
        );
      },
    });
    try {
      await producer.connect();
      await this.consumer.start();
    } catch (error) {
      await this.disconnect().catch(() => undefined);
      throw new JournalUnavailableError(
        `The Kafka journal could not connect: ${describeError(error)}`,
        { cause: error },
      );
    }
    if (this.closed) {
      await this.disconnect();
      throw new JournalUnavailableError('The journal was closed before it finished opening.');
    }
  }

  record(entries: readonly JournalEntry[]): Promise<void> {
    const problem = this.closed ? 'it is closed' : !this.producer ? 'it is not open' : undefined;
    if (problem) {
      return Promise.reject(
        new JournalUnavailableError(
          `The journal cannot record the event: ${problem}. Nothing was accepted.`,
        ),
      );
    }
    const pending = this.pending;
    const first = pending.emits === 0;
    if (this.options.compactRecords === false) {
      pending.messages.push({ value: JSON.stringify(entries) });
    } else if (this.recordFormat === 4) {
      if (pending.grouped?.size === GROUP_EMITS) closeGroup(pending);
      pending.grouped ??= new KafkaGroup();
      if (!pending.grouped.add(entries, GROUP_BYTES)) {
        closeGroup(pending);
        (pending.grouped = new KafkaGroup()).add(entries);
      }
    } else {
      const record = encodeEntries(entries);
      if (
        pending.groupBytes + record.length > GROUP_BYTES ||
        pending.group.length === GROUP_EMITS
      ) {
        closeGroup(pending);
      }
      pending.group.push(record);
      pending.groupBytes += record.length;
    }
    pending.emits++;
    pending.done ??= new Promise<void>((resolve, reject) => (pending.settle = { resolve, reject }));
    const done = pending.done;
    // The emits of this turn go together: one produce request instead of one, then the rest.
    if (first && !this.sending) setImmediate(() => this.send());
    return done;
  }

  attempted(): void {
    // Attempt counts stay with the instance making the delivery (see the class notes).
  }

  finished(deliveryIds: readonly string[]): void {
    // Every end is committed soon, as a finished mark when its record has not ended whole.
    if (this.progress.finished(deliveryIds)) this.commitSoon();
    if (this.roomWaiters.size > 0) this.wake();
  }

  size(): JournalSize {
    return { entries: this.progress.unfinished, damaged: this.damaged };
  }

  /** Produce requests so far: with grouping, far fewer than the emits they recorded. */
  get requests(): number {
    return this.produceRequests;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closedSignal();
    this.wake();
    clearTimeout(this.commitTimer);
    while (this.sending) await this.sending;
    await this.commit();
    await this.disconnect();
  }

  /** Sends what is pending in one produce request, unless one is in flight: it goes next. */
  private send(): void {
    if (this.sending || this.pending.emits === 0 || !this.producer) return;
    closeGroup(this.pending);
    const { messages, settle } = this.pending;
    this.pending = nothingPending();
    this.produceRequests++;
    this.sending = this.producer.send({ topic: this.topic, acks: -1, messages }).then(
      () => {
        settle?.resolve();
      },
      (error: unknown) => {
        const failed = new JournalUnavailableError(
          `The Kafka journal could not record the event: ${describeError(error)}. Nothing was accepted.`,
          { cause: error },
        );
        settle?.reject(failed);
      },
    );
    void this.sending.finally(() => {
      this.sending = undefined;
      this.send();
    });
  }

  /** Hands a fetched batch's deliveries to the gateway, then waits while it holds too many. */
  private async consume(payload: KafkaBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    // A partition just assigned: its records' finished marks first (they say what not to make).
    const loading = this.marks?.loading;
    if (loading) await Promise.race([loading, this.closedPromise]);
    const entries: JournalEntry[] = [];
    const taken: Taken[] = [];
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      if (!this.progress.isNew(batch.partition, message.offset)) continue;
      // A record that cannot be read is never dropped silently: it is reported and counted,
      // and passed over (it stays in the topic, until its retention) so the partition goes on.
      const { entries: read, damage } = decodeKafkaRecord(message.value ?? new Uint8Array());
      if (damage !== undefined) this.passOver(`${batch.partition}/${message.offset}`, damage);
      const { taken: record, open } = this.progress.take(batch.partition, message.offset, read);
      taken.push(record);
      for (const entry of open) entries.push(entry);
    }
    if (taken.length === 0) return;
    try {
      await this.sink?.take(entries);
    } catch {
      // The gateway is closing: these stay in Kafka for the next owner of the partition. Wait
      // here for the consumer to stop (kafkajs spins when every partition is paused instead).
      this.progress.giveBack(batch.partition, taken);
      while (!this.closed && isRunning()) await this.pause(HEARTBEAT_WAIT);
      return;
    }
    resolveOffset(taken[taken.length - 1].offset);
    this.commitSoon();
    await heartbeat();
    // Holding too many: fetch nothing more until some end (the rest wait in Kafka).
    while (this.progress.unfinished >= this.maxUnfinished && isRunning() && !isStale()) {
      await this.pause(HEARTBEAT_WAIT);
      await heartbeat();
    }
  }

  /** Reports and counts a record (`partition/offset`) that cannot be read, in part or whole. */
  private passOver(record: string, damage: string): void {
    this.damaged++;
    this.sink?.report(
      new JournalRecordDamagedError(
        `The Kafka journal skipped record ${record} of ${this.topic}: it cannot be read (${damage}). It stays in the topic until its retention; the partition goes on.`,
        record,
        damage,
      ),
    );
  }

  /** Waits until a delivery ends, the journal closes, or `ms` pass. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.roomWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.roomWaiters.add(done);
    });
  }

  private wake(): void {
    for (const waiter of [...this.roomWaiters]) waiter();
  }

  private commitSoon(): void {
    if (this.commitTimer || this.closed) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commit();
    }, this.options.commitInterval ?? 100);
    this.commitTimer.unref();
  }

  /** Commits each partition's offset past the records whose deliveries have all ended. */
  private async commit(): Promise<void> {
    while (this.committing) await this.committing;
    const offsets = this.progress.committable();
    if (offsets.length === 0 || !this.consumer) return;
    const consumer = this.consumer;
    this.committing = consumer
      .commit(offsets.map((committable) => ({ topic: this.topic, ...committable })))
      .then(
        () => this.progress.committed(offsets),
        (error: unknown) => {
          if ((error as { type?: unknown }).type === 'OFFSET_METADATA_TOO_LARGE') {
            // The brokers allow less metadata than Kafka's default: commit without marks.
            this.progress.marksBytes = 0;
            this.commitSoon();
          }
          // Lost in a rebalance, or the brokers are away: the next commit covers it.
          this.sink?.report(
            new JournalUnavailableError(
              `The Kafka journal could not commit its offsets: ${describeError(error)}`,
              { cause: error },
            ),
          );
        },
      );
    await this.committing;
    this.committing = undefined;
  }

  private async disconnect(): Promise<void> {
    const results = await Promise.allSettled([
      this.consumer?.stop(),
      this.producer?.disconnect(),
      this.marks?.stop(),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** Moves the grouped compact records into one record of the request (a lone one as it is). */
function closeGroup(pending: Pending): void {
  if (pending.grouped) {
    pending.messages.push({ value: pending.grouped.close() });
    pending.grouped = undefined;
  }
  const { group } = pending;
  if (group.length === 0) return;
  pending.messages.push({ value: group.length === 1 ? group[0] : encodeGroup(group) });
  pending.group = [];
  pending.groupBytes = 0;
}

/** How long a consumer waiting for room (or for close) sleeps between heartbeats, in ms. */
const HEARTBEAT_WAIT = 500;
