import { describeError } from '../model/describe-error';
import { PeriodicReading } from './periodic-reading';
import type { Source, SourceContext, SourceLag } from './source';
import { requireOptionalPeer } from '../model/optional-peer';
import { awsClientConfig } from './source-peers';
import { SqsDeletes, type DeleteBatchOutput } from './sqs-deletes';

/** What the SQS source uses of @aws-sdk/client-sqs 3 (an optional peer dependency, lazy). */
interface SqsModule {
  SQSClient: new (config: Record<string, unknown>) => SqsClient;
  ReceiveMessageCommand: new (input: Record<string, unknown>) => unknown;
  DeleteMessageBatchCommand: new (input: Record<string, unknown>) => unknown;
  ChangeMessageVisibilityCommand: new (input: Record<string, unknown>) => unknown;
  GetQueueAttributesCommand: new (input: Record<string, unknown>) => unknown;
}

interface SqsClient {
  send(
    command: unknown,
    options?: { abortSignal?: AbortSignal },
  ): Promise<ReceiveOutput & DeleteBatchOutput & AttributesOutput>;
  destroy(): void;
}

interface ReceiveOutput {
  Messages?: {
    MessageId?: string;
    ReceiptHandle?: string;
    Body?: string;
    Attributes?: Record<string, string>;
    MessageAttributes?: Record<string, { StringValue?: string }>;
  }[];
}

interface AttributesOutput {
  Attributes?: Record<string, string>;
}

/** @default visibility timeout of the messages taken, in seconds */
const DEFAULT_VISIBILITY = 30;
/** @default long-polling wait, in seconds (SQS's most) */
const DEFAULT_WAIT = 20;

/**
 * An SQS queue, by long polling (`waitTimeSeconds`, default 20). A message taken stays invisible
 * to other consumers while its event is in flight: its visibility (`visibilityTimeout`, default
 * 30 s) is extended at half-time until it is settled. It is deleted only once its event was
 * accepted (or dead-lettered); one given back is made visible again at once. Every instance
 * running the connection polls: SQS itself shares the messages among them. Options: `queueUrl`,
 * `region`, `endpoint`, `awsAccessKeyId` / `awsSecretAccessKey` / `awsSessionToken` (else the
 * SDK's default credentials).
 * @example
 * ```ts
 * await gateway.createConnection({
 *   connectionId: 'jobs', type: 'awssqs',
 *   source: { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs', region: 'eu-west-1' },
 *   eventType: 'job.created',
 * });
 * ```
 */
export function sqsSource(context: SourceContext): Source {
  return new SqsSource(context);
}

class SqsSource implements Source {
  private readonly sdk = requireOptionalPeer<SqsModule>('@aws-sdk/client-sqs', {
    feature: 'awssqs connections',
    install: '@aws-sdk/client-sqs@3',
  });
  private readonly client: SqsClient;
  private readonly queueUrl: string;
  private readonly visibility: number;
  private readonly wait: number;
  private readonly stop = new AbortController();
  private readonly extenders = new Set<NodeJS.Timeout>();
  private paused = false;
  private wake: (() => void) | undefined;
  private polling: Promise<void> | undefined;
  private readonly deletes: SqsDeletes;
  /** The connection's lag: read every 5 s (credentials without sqs:GetQueueAttributes: none). */
  private readonly queued = new PeriodicReading(() => this.countQueued());

  constructor(private readonly context: SourceContext) {
    const { source } = context.record;
    this.queueUrl = String(source.queueUrl);
    this.visibility = Number(source.visibilityTimeout ?? DEFAULT_VISIBILITY);
    this.wait = Math.min(Number(source.waitTimeSeconds ?? DEFAULT_WAIT), DEFAULT_WAIT);
    this.client = new this.sdk.SQSClient(awsClientConfig(context.record, context.outbound));
    this.deletes = new SqsDeletes((Entries) =>
      this.client.send(
        new this.sdk.DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries }),
      ),
    );
  }

  async start(): Promise<void> {
    this.polling = this.poll();
    this.queued.start();
  }

  /** The queue's messages not yet deleted, visible or in flight, as last read. */
  lag(): SourceLag {
    const { value } = this.queued;
    return value === undefined ? {} : { lagMessages: value };
  }

  /** The queue's messages, visible and in flight (on any instance), by GetQueueAttributes. */
  private async countQueued(): Promise<number> {
    const { Attributes: counts = {} } = await this.client.send(
      new this.sdk.GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
      { abortSignal: this.stop.signal },
    );
    return (
      Number(counts.ApproximateNumberOfMessages) +
      Number(counts.ApproximateNumberOfMessagesNotVisible)
    );
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  async close(): Promise<void> {
    this.stop.abort();
    this.queued.stop();
    this.wake?.();
    await this.polling;
    for (const timer of this.extenders) clearInterval(timer);
    this.extenders.clear();
    // Acks already made are sent before the client goes (else their messages come back).
    await this.deletes.drain();
    this.client.destroy();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
    });
  }

  private async poll(): Promise<void> {
    let failures = 0;
    while (!this.stop.signal.aborted) {
      if (this.paused) {
        await this.sleep(1000);
        continue;
      }
      let output: ReceiveOutput;
      try {
        output = await this.client.send(
          new this.sdk.ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.wait,
            VisibilityTimeout: this.visibility,
            MessageSystemAttributeNames: ['SentTimestamp'],
            // The older name of the same request field, for SQS-compatible servers that lack the new.
            AttributeNames: ['SentTimestamp'],
            MessageAttributeNames: ['content-type'],
          }),
          { abortSignal: this.stop.signal },
        );
        failures = 0;
      } catch (error) {
        if (this.stop.signal.aborted) return;
        this.context.fail(
          new Error(`receiving from SQS: ${describeError(error)}`, { cause: error }),
        );
        await this.sleep(Math.min(30_000, 250 * 2 ** failures++));
        continue;
      }
      for (const message of output.Messages ?? []) this.take(message);
    }
  }

  private take(message: NonNullable<ReceiveOutput['Messages']>[number]): void {
    const handle = message.ReceiptHandle;
    if (!handle || !message.MessageId) return;
    const visibility = (seconds: number) =>
      this.client.send(
        new this.sdk.ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: handle,
          VisibilityTimeout: seconds,
        }),
      );
    // In flight: invisible to every other consumer until settled, however long acceptance takes.
    const extender = setInterval(
      () =>
        void visibility(this.visibility).catch((error: unknown) =>
          this.context.fail(
            new Error(`extending an SQS message's visibility: ${describeError(error)}`),
          ),
        ),
      Math.max(500, (this.visibility * 1000) / 2),
    );
    extender.unref();
    this.extenders.add(extender);
    const settled = () => {
      clearInterval(extender);
      this.extenders.delete(extender);
    };
    const sent = Number(message.Attributes?.SentTimestamp);
    const type = message.MessageAttributes?.['content-type']?.StringValue;
    this.context.deliver({
      id: message.MessageId,
      body: message.Body ?? '',
      ...(Number.isFinite(sent) ? { time: new Date(sent) } : {}),
      ...(type === undefined ? {} : { contentType: type }),
      ack: async () => {
        settled();
        await this.deletes.delete(handle);
      },
      release: async () => {
        settled();
        await visibility(0);
      },
    });
  }
}
