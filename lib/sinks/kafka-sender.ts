import { Worker } from 'node:worker_threads';
import type { KafkaMessage, KafkaProducer } from '../clients/kafka-client';

/** Sends produce requests for a Kafka archive, one at a time. */
export interface KafkaSender {
  /** Produces `messages` on `topic` with acks from all in-sync replicas. */
  send(topic: string, messages: KafkaMessage[]): Promise<void>;
  /** Disconnects; what is in flight fails. */
  close(): Promise<void>;
}

/** A kafkajs producer in the host's thread, made anew after a failure (it may be stuck). */
export class InlineSender implements KafkaSender {
  private producer: Promise<KafkaProducer> | undefined;

  constructor(private readonly connect: () => Promise<KafkaProducer>) {}

  async send(topic: string, messages: KafkaMessage[]): Promise<void> {
    try {
      const producer = await (this.producer ??= this.connect());
      await producer.send({ topic, acks: -1, messages });
    } catch (error) {
      void this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
  }
}

/** The worker: a kafkajs producer answering `{ id, topic, messages }` with `{ id, error? }`. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const kafkajs = require(workerData.kafkajs);
const kafka = new kafkajs.Kafka({ logLevel: kafkajs.logLevel.NOTHING, ...workerData.client });
let producer;
parentPort.on('message', async ({ id, topic, messages }) => {
  try {
    if (!producer) {
      const made = kafka.producer({
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
        retry: { retries: 1 },
        ...workerData.producer,
      });
      producer = made.connect().then(() => made);
    }
    await (await producer).send({ topic, acks: -1, messages });
    parentPort.postMessage({ id });
  } catch (error) {
    const failed = producer;
    producer = undefined;
    if (failed) failed.then((p) => p.disconnect()).catch(() => undefined);
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

/**
 * A kafkajs producer in a worker thread: kafkajs encodes records (and checksums them) in plain
 * JavaScript, which would otherwise take the host's event loop for about as long as routing the
 * events did. The thread is unref'd (it never keeps the host alive) and made anew if it dies.
 */
export class ThreadSender implements KafkaSender {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve(): void; reject(e: Error): void }>();
  private nextId = 0;

  constructor(
    private readonly settings: {
      kafkajs: string;
      client: Record<string, unknown>;
      producer?: Record<string, unknown>;
    },
  ) {}

  send(topic: string, messages: KafkaMessage[]): Promise<void> {
    const worker = (this.worker ??= this.start());
    const id = ++this.nextId;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, topic, messages });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the Kafka archive closed'));
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.settings });
    worker.unref();
    worker.on('message', ({ id, error }: { id: number; error?: string }) => {
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (error === undefined) waiter?.resolve();
      else waiter?.reject(new Error(error));
    });
    const died = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(error);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the Kafka archive's thread exited (${code})`)));
    return worker;
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/** True when `value` can be copied to a worker thread (no functions, no class instances). */
export function copiesToThread(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
