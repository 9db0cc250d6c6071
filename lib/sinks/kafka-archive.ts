import { availableParallelism } from 'node:os';
import { ArchiveUnavailableError, ValidationError } from '../errors';
import type { CloudEvent } from '../model/cloud-event';
import type { ArchivedEvent, ArchiveQuery, ArchiveSource } from '../plugins/archive-source';
import type { AcceptedContext } from '../plugins/intake-plugin';
import { loadKafka, type KafkaMessage, type KafkaModule } from '../clients/kafka-client';
import { MAX_TIMER_MS, positiveOption } from '../model/checks';
import { describeError } from '../model/describe-error';
import { whereJson } from './archive-record';
import { ArchiveSink, type ArchiveBatch, type ArchiveSinkOptions } from './archive-sink';
import { HEADERS, readKafkaArchive } from './kafka-archive-reader';
import { copiesToThread, InlineSender, ThreadSender, type KafkaSender } from './kafka-sender';

/** Options of {@link KafkaArchive}. */
export interface KafkaArchiveOptions extends ArchiveSinkOptions {
  /**
   * The kafkajs client configuration (`new Kafka(client)`): `brokers`, `clientId`, `ssl`,
   * `sasl`... `logLevel` defaults to nothing.
   */
  client: {
    /** The brokers to bootstrap from (`host:port`), or a function that finds them. */
    brokers: string[] | (() => string[] | Promise<string[]>);
    [option: string]: unknown;
  };
  /** The topic events are archived on (and read from by replay). @default 'event-gateway-archive' */
  topic?: string;
  /** More kafkajs producer options. */
  producer?: Record<string, unknown>;
  /**
   * Run kafkajs's producer in a worker thread: it encodes and checksums records in plain
   * JavaScript, which in the host's thread costs about as much as routing the events. Without a
   * thread (or when `client`/`producer` hold functions, which cannot be copied to one), it runs
   * in the host's thread. On two cores or fewer the thread competes with the host for them:
   * delivering to HTTP functions it cost more than it saved (see BENCHMARKS.md), hence the default.
   * @default true with more than two cores (`os.availableParallelism()`), else false
   */
  producerThread?: boolean;
  /** More kafkajs consumer options for replays (`maxBytes`, `sessionTimeout`...). */
  consumer?: Record<string, unknown>;
  /** A produce request is sent once its events reach this many bytes... @default 1048576 */
  maxBatchBytes?: number;
  /** ...or once its first event is this old (ms). @default 20 */
  maxBatchAge?: number;
  /**
   * How long a replay waits for a record it expects before it fails (ms).
   * @default 30000
   */
  readTimeout?: number;
}

/**
 * An archive of accepted events on one Kafka topic (kafkajs, an optional peer dependency loaded on
 * first use): each event a record keyed by its ID, its value the event as structured CloudEvents
 * JSON (`content-type: application/cloudevents+json`), its timestamp the time it was accepted,
 * its space, method, path and sequence in headers. Use it as an intake plugin to archive, and as
 * a replay's `source` to read back (the topic's retention bounds what can be replayed).
 *
 * @example
 * ```ts
 * const archive = new KafkaArchive({ client: { brokers: ['kafka-1:9092'] }, topic: 'events' });
 * const gateway = createGateway(store, { plugins: [archive] });
 * await gateway.replay({ source: archive, from: Date.now() - 3_600_000 });
 * ```
 */
export class KafkaArchive extends ArchiveSink<KafkaMessage[]> implements ArchiveSource {
  private readonly topic: string;
  private readonly readTimeout: number;
  private kafka: InstanceType<KafkaModule['Kafka']> | undefined;
  private sender: KafkaSender | undefined;

  constructor(private readonly options: KafkaArchiveOptions) {
    super(options, {
      name: 'kafka-archive',
      concurrency: 1, // one request at a time: records land in the order they were accepted
      maxBatchBytes: positiveOption(options?.maxBatchBytes ?? 1024 * 1024, 'maxBatchBytes'),
      maxBatchAge: positiveOption(options?.maxBatchAge ?? 20, 'maxBatchAge', MAX_TIMER_MS),
    });
    if (typeof options.client !== 'object' || options.client === null || !options.client.brokers) {
      throw new ValidationError(
        'new KafkaArchive(options): "client" must be a kafkajs config with "brokers".',
      );
    }
    this.topic = options.topic ?? 'event-gateway-archive';
    if (typeof this.topic !== 'string' || this.topic === '') {
      throw new ValidationError('new KafkaArchive(options): "topic" must be a non-empty string.');
    }
    this.readTimeout = positiveOption(options.readTimeout ?? 30_000, 'readTimeout', MAX_TIMER_MS);
  }

  protected groupOf(): string {
    return '';
  }

  protected newData(): KafkaMessage[] {
    return [];
  }

  protected append(
    messages: KafkaMessage[],
    event: CloudEvent,
    where: AcceptedContext,
    acceptedAt: number,
    seq: number,
  ): number {
    const value = JSON.stringify(event);
    messages.push({
      key: event.id,
      value,
      timestamp: String(acceptedAt),
      headers: {
        [HEADERS.contentType]: 'application/cloudevents+json; charset=UTF-8',
        [HEADERS.accepted]: `{${whereJson(where)},"seq":${seq}}`,
      },
    });
    return value.length + event.id.length + 150; // with headers and framing
  }

  protected async write(batch: ArchiveBatch<KafkaMessage[]>, signal: AbortSignal): Promise<void> {
    try {
      await abortable((this.sender ??= this.makeSender()).send(this.topic, batch.data), signal);
    } catch (error) {
      throw new ArchiveUnavailableError(
        `The Kafka archive "${this.name}" could not write to topic "${this.topic}": ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  /** In a thread if asked (or by default, see `producerThread`) and the config copies to one. */
  private makeSender(): KafkaSender {
    const kafkajs = this.kafkajs();
    const { client, producer } = this.options;
    const thread = this.options.producerThread ?? availableParallelism() > 2;
    if (thread && copiesToThread({ client, producer })) {
      return new ThreadSender({ kafkajs: require.resolve('kafkajs'), client, producer });
    }
    return new InlineSender(async () => {
      const made = this.client(kafkajs).producer({
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
        retry: { retries: 1 },
        ...producer,
      });
      await made.connect();
      return made;
    });
  }

  protected async release(): Promise<void> {
    const sender = this.sender;
    this.sender = undefined;
    await sender?.close();
  }

  /** The events of a window, in the order they were accepted. See {@link ArchiveSource}. */
  read(query: ArchiveQuery): AsyncIterable<ArchivedEvent> {
    return readKafkaArchive(this.client(this.kafkajs()), this.topic, query, {
      consumer: this.options.consumer,
      idleTimeout: this.readTimeout,
      name: this.name,
    });
  }

  private kafkajs(): KafkaModule {
    return loadKafka('KafkaArchive');
  }

  private client(kafkajs: KafkaModule): InstanceType<KafkaModule['Kafka']> {
    return (this.kafka ??= new kafkajs.Kafka({
      logLevel: kafkajs.logLevel.NOTHING,
      ...this.options.client,
    }));
  }
}

/** The promise's outcome, or the signal's reason once it aborts (the work itself goes on). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // Whatever happens to the work after the abort has no one to hear it: handled, not unhandled.
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
