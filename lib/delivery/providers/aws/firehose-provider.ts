import type { FunctionRecord } from '../../../model/function';
import type { AwsClients, SdkClient, SdkModule } from './aws-clients';
import { BatchedAwsProvider, recordOutcomes, type AwsEntry } from './batched-aws-provider';

/** What a delivery to Firehose resolves with. */
export interface FirehoseResult {
  readonly recordId: string;
}

/** Firehose's `PutRecordBatch` limits: 500 records and 4 MiB per call. */
const LIMITS = { maxEntries: 500, maxBytes: 4 * 1024 * 1024 };
/** Failures of one record that are about the stream's load, not the record: worth a retry. */
const RETRYABLE_CODES = new Set(['ServiceUnavailableException', 'InternalFailure']);

/**
 * The `awsfirehose` provider: puts the event on `provider.deliveryStreamName` as one line of
 * newline-delimited JSON (`PutRecord`, or `PutRecordBatch` when several wait), so that the
 * objects Firehose writes hold one event per line.
 */
export class FirehoseProvider extends BatchedAwsProvider<FirehoseResult> {
  constructor(clients: AwsClients) {
    super(clients, 'firehose', LIMITS);
  }

  protected destination(fn: FunctionRecord): string {
    return String(fn.provider.deliveryStreamName);
  }

  protected async sendOne(client: SdkClient, sdk: SdkModule, entry: AwsEntry, signal: AbortSignal) {
    const out = (await client.send(
      new sdk.PutRecordCommand({
        DeliveryStreamName: entry.fn.provider.deliveryStreamName,
        Record: { Data: line(entry) },
      }),
      { abortSignal: signal },
    )) as { RecordId?: string };
    return { recordId: String(out.RecordId) };
  }

  protected async sendMany(client: SdkClient, sdk: SdkModule, entries: readonly AwsEntry[]) {
    const out = (await client.send(
      new sdk.PutRecordBatchCommand({
        DeliveryStreamName: entries[0].fn.provider.deliveryStreamName,
        Records: entries.map((entry) => ({ Data: line(entry) })),
      }),
    )) as { RequestResponses?: { RecordId?: string; ErrorCode?: string; ErrorMessage?: string }[] };
    return recordOutcomes(
      entries.length,
      out.RequestResponses,
      'Firehose',
      RETRYABLE_CODES,
      (answer) => ({
        recordId: String(answer.RecordId),
      }),
    );
  }
}

function line(entry: AwsEntry): Buffer {
  return Buffer.from(entry.body + '\n');
}
