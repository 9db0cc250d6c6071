import type { FunctionRecord } from '../../../model/function';
import type { AwsClients, SdkClient, SdkModule } from './aws-clients';
import {
  attributeValue,
  BatchedAwsProvider,
  recordOutcomes,
  type AwsEntry,
} from './batched-aws-provider';

/** What a delivery to Kinesis resolves with. */
export interface KinesisResult {
  readonly sequenceNumber: string;
  readonly shardId: string;
}

/** Kinesis's `PutRecords` limits: 500 records and 5 MiB per call. */
const LIMITS = { maxEntries: 500, maxBytes: 5 * 1024 * 1024 };
/** Failures of one record that are about the stream's load, not the record: worth a retry. */
const RETRYABLE_CODES = new Set(['ProvisionedThroughputExceededException', 'InternalFailure']);

/**
 * The `awskinesis` provider: puts the event, as JSON, on `provider.streamName` (`PutRecord`, or
 * `PutRecords` when several wait), partitioned by the event attribute named by
 * `provider.partitionKeyAttribute` (default `id`).
 */
export class KinesisProvider extends BatchedAwsProvider<KinesisResult> {
  constructor(clients: AwsClients) {
    super(clients, 'kinesis', LIMITS);
  }

  protected destination(fn: FunctionRecord): string {
    return String(fn.provider.streamName);
  }

  protected async sendOne(client: SdkClient, sdk: SdkModule, entry: AwsEntry, signal: AbortSignal) {
    const out = (await client.send(
      new sdk.PutRecordCommand({ StreamName: entry.fn.provider.streamName, ...record(entry) }),
      { abortSignal: signal },
    )) as { SequenceNumber?: string; ShardId?: string };
    return { sequenceNumber: String(out.SequenceNumber), shardId: String(out.ShardId) };
  }

  protected async sendMany(client: SdkClient, sdk: SdkModule, entries: readonly AwsEntry[]) {
    const out = (await client.send(
      new sdk.PutRecordsCommand({
        StreamName: entries[0].fn.provider.streamName,
        Records: entries.map(record),
      }),
    )) as {
      Records?: {
        SequenceNumber?: string;
        ShardId?: string;
        ErrorCode?: string;
        ErrorMessage?: string;
      }[];
    };
    return recordOutcomes(entries.length, out.Records, 'Kinesis', RETRYABLE_CODES, (answer) => ({
      sequenceNumber: String(answer.SequenceNumber),
      shardId: String(answer.ShardId),
    }));
  }
}

function record(entry: AwsEntry): { Data: Buffer; PartitionKey: string } {
  const attribute = String(entry.fn.provider.partitionKeyAttribute ?? 'id');
  // Kinesis takes at most 256 characters of partition key.
  const key = attributeValue(entry.event, attribute).slice(0, 256);
  return { Data: Buffer.from(entry.body), PartitionKey: key };
}
