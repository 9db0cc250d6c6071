import { createHash } from 'node:crypto';
import { DEFAULT_MAX_IN_FLIGHT } from '../model/connection';
import { describeError } from '../model/describe-error';
import { PeriodicReading } from './periodic-reading';
import type { Source, SourceContext, SourceLag } from './source';
import { amqpSocketOptions } from './source-outbound';
import { requireOptionalPeer } from '../model/optional-peer';

/** What the AMQP source uses of amqplib 2 (an optional peer dependency, lazy). */
interface AmqpModule {
  connect(url: string, socketOptions?: Record<string, unknown>): Promise<AmqpConnection>;
}

interface AmqpConnection {
  createChannel(): Promise<AmqpChannel>;
  close(): Promise<void>;
  on(event: 'error' | 'close', listener: (error?: Error) => void): unknown;
}

interface AmqpMessage {
  content: Buffer;
  fields: { deliveryTag: number };
  properties: { messageId?: string; timestamp?: number; contentType?: string };
}

interface AmqpChannel {
  prefetch(count: number): Promise<unknown>;
  checkQueue(queue: string): Promise<{ messageCount: number }>;
  on(event: 'error' | 'close', listener: (error?: Error) => void): unknown;
  consume(
    queue: string,
    onMessage: (message: AmqpMessage | null) => void,
    options: { noAck: boolean },
  ): Promise<{ consumerTag: string }>;
  ack(message: AmqpMessage): void;
  nack(message: AmqpMessage, allUpTo: boolean, requeue: boolean): void;
}

/**
 * An AMQP 0-9-1 queue (RabbitMQ), through amqplib: a consumer with manual acknowledgements and a
 * prefetch of the connection's `maxInFlight`, so that the broker itself never sends more than
 * that unacknowledged (backpressure without buffering). Each message is acked after acceptance
 * (or dead-lettering) and requeued when given back. Every instance running the connection
 * consumes: the broker shares the messages. The event `id` is the message's `messageId`, or a
 * hash of its content when it has none (stable across redeliveries). Options: `url`
 * (`amqp://user:password@host:5672/vhost`, its userinfo masked as a secret), `queue` (which must
 * exist). A lost connection is reported and made again, with backoff.
 * @example
 * ```ts
 * await gateway.createConnection({
 *   connectionId: 'mail', type: 'amqp', source: { url: 'amqp://localhost', queue: 'mail' },
 *   eventType: 'mail.requested',
 * });
 * ```
 */
export function amqpSource(context: SourceContext): Source {
  return new AmqpSource(context);
}

class AmqpSource implements Source {
  private readonly amqp = requireOptionalPeer<AmqpModule>('amqplib', {
    feature: 'amqp connections',
    install: 'amqplib@2',
  });
  private connection: AmqpConnection | undefined;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The connection's lag: the queue's ready messages, read every 5 s. */
  private readonly ready = new PeriodicReading(() => this.countReady());
  /** The channel the queue's count is read on (a failed check closes its channel). */
  private checks: AmqpChannel | undefined;

  constructor(private readonly context: SourceContext) {}

  async start(): Promise<void> {
    const { source, maxInFlight } = this.context.record;
    const url = String(source.url);
    const { outbound } = this.context;
    // Checked on every connect and reconnect, on the address the host resolves to then.
    const connection = await this.amqp.connect(url, outbound && amqpSocketOptions(outbound, url));
    this.connection = connection;
    connection.on('error', () => undefined);
    connection.on('close', (error) => {
      if (this.closed || this.connection !== connection) return;
      this.connection = undefined;
      this.context.fail(
        new Error(`the AMQP connection closed: ${describeError(error ?? 'closed')}`),
      );
      this.reconnect();
    });
    try {
      const channel = await connection.createChannel();
      await channel.prefetch(maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
      await channel.checkQueue(String(source.queue));
      await channel.consume(
        String(source.queue),
        (message) => message && this.take(channel, message),
        {
          noAck: false,
        },
      );
      this.failures = 0;
      this.ready.start();
    } catch (error) {
      this.connection = undefined;
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  /** The broker's prefetch is the backpressure: nothing to do here. */
  pause(): void {}

  resume(): void {}

  /** The queue's ready messages, as last read. */
  lag(): SourceLag {
    const { value } = this.ready;
    return value === undefined ? {} : { lagMessages: value };
  }

  /**
   * The queue's ready messages, by a passive declare on a channel of its own: a check that fails
   * (the queue deleted) closes that channel, never the consumer's. None while reconnecting.
   */
  private async countReady(): Promise<number | undefined> {
    const connection = this.connection;
    if (!connection) return undefined;
    if (!this.checks) {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      channel.on('close', () => {
        if (this.checks === channel) this.checks = undefined;
      });
      this.checks = channel;
    }
    const { messageCount } = await this.checks.checkQueue(String(this.context.record.source.queue));
    return messageCount;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ready.stop();
    clearTimeout(this.retryTimer);
    // Unacknowledged messages go back to the queue when the connection closes.
    await this.connection?.close().catch(() => undefined);
  }

  private reconnect(): void {
    const delay = Math.min(30_000, 250 * 2 ** this.failures++);
    this.retryTimer = setTimeout(() => {
      if (this.closed) return;
      this.start().catch((error: unknown) => {
        this.context.fail(
          new Error(`reconnecting to AMQP: ${describeError(error)}`, { cause: error }),
        );
        this.reconnect();
      });
    }, delay);
    this.retryTimer.unref();
  }

  private take(channel: AmqpChannel, message: AmqpMessage): void {
    const { messageId, timestamp, contentType } = message.properties;
    const id = messageId ?? `sha256-${createHash('sha256').update(message.content).digest('hex')}`;
    this.context.deliver({
      id: id.slice(0, 256),
      body: message.content,
      // AMQP timestamps are seconds since the epoch.
      ...(typeof timestamp === 'number' ? { time: new Date(timestamp * 1000) } : {}),
      ...(contentType === undefined ? {} : { contentType }),
      ack: async () => channel.ack(message),
      release: async () => channel.nack(message, false, true),
    });
  }
}
