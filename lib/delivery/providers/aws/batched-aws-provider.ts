import { InvocationError } from '../../../errors';
import type { CloudEvent } from '../../../model/cloud-event';
import type { FunctionRecord } from '../../../model/function';
import type { InvocationContext, Provider } from '../../provider';
import type { AwsClients, AwsService, SdkClient, SdkModule } from './aws-clients';
import { hideSecrets } from '../../../model/function-secrets';
import { awsFailure } from './aws-failure';
import { Batcher, type BatchLimits } from './batcher';

/** One message on its way to a queue or stream, with the function it is for. */
export interface AwsEntry {
  readonly fn: FunctionRecord;
  /** The event as JSON. */
  readonly body: string;
  readonly event: CloudEvent;
}

/** One entry's failure inside a batch answer. */
export class EntryFailure {
  constructor(
    readonly code: string,
    readonly message: string,
    /** True when the sender is at fault (a bad entry): not worth another attempt. */
    readonly senderFault: boolean,
  ) {}
}

/**
 * The shape of the SQS, Kinesis and Firehose providers: each delivery is one message; deliveries
 * to the same queue or stream that wait together go out in batch calls (see {@link Batcher});
 * every delivery keeps its own outcome. Subclasses say how one message and a batch are sent.
 */
export abstract class BatchedAwsProvider<R> implements Provider {
  private readonly batcher: Batcher<AwsEntry, R>;

  protected constructor(
    protected readonly clients: AwsClients,
    private readonly service: AwsService,
    limits: BatchLimits,
  ) {
    this.batcher = new Batcher<AwsEntry, R>(limits, {
      one: async (entry, signal) => {
        try {
          return await this.sendOne(this.client(entry.fn), this.sdk(entry.fn), entry, signal);
        } catch (error) {
          throw awsFailure(entry.fn, error);
        }
      },
      many: async (entries): Promise<(R | Error)[]> => {
        let outcomes: (R | EntryFailure)[];
        try {
          outcomes = await this.sendMany(
            this.client(entries[0].fn),
            this.sdk(entries[0].fn),
            entries,
          );
        } catch (error) {
          // The whole call failed: every entry failed, each reported for its own function.
          return entries.map((entry) => awsFailure(entry.fn, error));
        }
        return outcomes.map((outcome, i) =>
          outcome instanceof EntryFailure ? this.entryFailure(entries[i].fn, outcome) : outcome,
        );
      },
    });
  }

  /** Where messages go: the queue URL or stream name. */
  protected abstract destination(fn: FunctionRecord): string;
  protected abstract sendOne(
    client: SdkClient,
    sdk: SdkModule,
    entry: AwsEntry,
    signal: AbortSignal,
  ): Promise<R>;
  /** One outcome per entry, in order: a result, or that entry's failure. */
  protected abstract sendMany(
    client: SdkClient,
    sdk: SdkModule,
    entries: readonly AwsEntry[],
  ): Promise<(R | EntryFailure)[]>;

  /** Destroys the SDK clients (shared by every AWS provider of the gateway). */
  async close(): Promise<void> {
    this.clients.close();
  }

  invoke(fn: FunctionRecord, event: CloudEvent, context: InvocationContext): Promise<R> {
    const body = JSON.stringify(event);
    const p = fn.provider;
    // Entries of one batch share a client: the same destination, region, endpoint and keys, and
    // the same outbound check (a tenant's space): a tenant's entry never rides a host's client.
    const target = JSON.stringify([
      fn.writer === 'tenant' ? fn.space : null,
      this.destination(fn),
      p.region,
      p.endpoint,
      p.awsAccessKeyId,
      p.awsSecretAccessKey,
      p.awsSessionToken,
    ]);
    return this.batcher.add(target, { fn, body, event }, Buffer.byteLength(body), context);
  }

  private client(fn: FunctionRecord): SdkClient {
    return this.clients.client(this.service, fn);
  }

  private sdk(fn: FunctionRecord): SdkModule {
    return this.clients.module(this.service, fn);
  }

  private entryFailure(fn: FunctionRecord, failure: EntryFailure): InvocationError {
    return new InvocationError(
      hideSecrets(
        `Function "${fn.functionId}" (${fn.type}) failed: ${failure.code}: ${failure.message}`,
        fn,
      ),
      { retryable: !failure.senderFault, resource: 'function', id: fn.functionId, space: fn.space },
    );
  }
}

/** An event attribute as a string (the event's id when it has no such attribute). */
export function attributeValue(event: CloudEvent, attribute: string): string {
  const value = event[attribute];
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : event.id;
}

/** One record's answer in a `PutRecords` / `PutRecordBatch` reply (answers come in entry order). */
interface RecordAnswer {
  readonly ErrorCode?: string;
  readonly ErrorMessage?: string;
}

/**
 * Each entry's outcome from a reply listing one answer per record: a failure where the answer has
 * an error code (retryable when the code is about load, not the record), else `ok(answer)`.
 */
export function recordOutcomes<A extends RecordAnswer, R>(
  count: number,
  answers: readonly A[] | undefined,
  service: string,
  retryableCodes: ReadonlySet<string>,
  ok: (answer: A) => R,
): (R | EntryFailure)[] {
  return Array.from({ length: count }, (_, i) => {
    const answer = answers?.[i];
    if (!answer)
      return new EntryFailure('NoAnswer', `${service} did not answer for this record`, false);
    if (answer.ErrorCode) {
      return new EntryFailure(
        answer.ErrorCode,
        answer.ErrorMessage ?? '',
        !retryableCodes.has(answer.ErrorCode),
      );
    }
    return ok(answer);
  });
}
