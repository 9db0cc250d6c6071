import type { FunctionRecord } from '../../../model/function';
import type { AwsClients, SdkClient, SdkModule } from './aws-clients';
import {
  attributeValue,
  BatchedAwsProvider,
  EntryFailure,
  type AwsEntry,
} from './batched-aws-provider';

/** What a delivery to SQS resolves with. */
export interface SqsResult {
  readonly messageId: string;
}

/** SQS's batch limits: 10 messages and 256 KiB per `SendMessageBatch`. */
const LIMITS = { maxEntries: 10, maxBytes: 256 * 1024 };
/** What SQS accepts as a message group or deduplication ID. */
const SQS_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The `awssqs` provider: sends the event, as JSON, to `provider.queueUrl` (`SendMessage`, or
 * `SendMessageBatch` when several wait). FIFO queues (`.fifo`) get a message group ID from the
 * event attribute named by `provider.messageGroupAttribute` (default `source`) and the event's
 * `id` as deduplication ID, so that a retried delivery is not queued twice.
 */
export class SqsProvider extends BatchedAwsProvider<SqsResult> {
  constructor(clients: AwsClients) {
    super(clients, 'sqs', LIMITS);
  }

  protected destination(fn: FunctionRecord): string {
    return String(fn.provider.queueUrl);
  }

  protected async sendOne(client: SdkClient, sdk: SdkModule, entry: AwsEntry, signal: AbortSignal) {
    const out = (await client.send(
      new sdk.SendMessageCommand({ QueueUrl: entry.fn.provider.queueUrl, ...message(entry) }),
      { abortSignal: signal },
    )) as { MessageId?: string };
    return { messageId: String(out.MessageId) };
  }

  protected async sendMany(client: SdkClient, sdk: SdkModule, entries: readonly AwsEntry[]) {
    const out = (await client.send(
      new sdk.SendMessageBatchCommand({
        QueueUrl: entries[0].fn.provider.queueUrl,
        Entries: entries.map((entry, i) => ({ Id: String(i), ...message(entry) })),
      }),
    )) as {
      Successful?: { Id: string; MessageId?: string }[];
      Failed?: { Id: string; Code?: string; Message?: string; SenderFault?: boolean }[];
    };
    const outcomes: (SqsResult | EntryFailure)[] = entries.map(
      () => new EntryFailure('NoAnswer', 'SQS did not answer for this message', false),
    );
    for (const ok of out.Successful ?? [])
      outcomes[Number(ok.Id)] = { messageId: String(ok.MessageId) };
    for (const failed of out.Failed ?? []) {
      outcomes[Number(failed.Id)] = new EntryFailure(
        failed.Code ?? 'Failed',
        failed.Message ?? '',
        failed.SenderFault === true,
      );
    }
    return outcomes;
  }
}

function message(entry: AwsEntry): Record<string, string> {
  const out: Record<string, string> = { MessageBody: entry.body };
  if (String(entry.fn.provider.queueUrl).endsWith('.fifo')) {
    const attribute = String(entry.fn.provider.messageGroupAttribute ?? 'source');
    out.MessageGroupId = sqsId(attributeValue(entry.event, attribute));
    out.MessageDeduplicationId = sqsId(entry.event.id);
  }
  return out;
}

/** The value itself when SQS accepts it as an ID, else its SHA-256 (same value, same ID). */
function sqsId(value: string): string {
  if (SQS_ID.test(value)) return value;
  // Required here: node:crypto costs a few ms to load, and most gateways never need it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(value).digest('hex');
}
