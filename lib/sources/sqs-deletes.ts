/** What SQS answered to a DeleteMessageBatch: the entries it could not delete. */
export interface DeleteBatchOutput {
  Failed?: { Id?: string; Code?: string; Message?: string }[];
}

/** Sends one DeleteMessageBatch request (up to 10 entries). */
export type SendDeleteBatch = (
  entries: { Id: string; ReceiptHandle: string }[],
) => Promise<DeleteBatchOutput>;

interface Waiting {
  readonly handle: string;
  resolve(): void;
  reject(error: Error): void;
}

/** SQS deletes at most 10 messages per request. */
const MOST_PER_BATCH = 10;

/**
 * Acknowledgements of SQS messages coalesced into DeleteMessageBatch requests: the acks made in
 * one turn (up to 10 per request) share one signed request instead of one each, which cost the
 * connection ~3x the client CPU of the raw batch loop (BENCHMARKS.md, "Connections"). Each ack
 * still settles on its own entry's result: one SQS could not delete rejects alone.
 * @example
 * ```ts
 * const deletes = new SqsDeletes((Entries) => client.send(new DeleteMessageBatchCommand({ QueueUrl, Entries })));
 * await deletes.delete(message.ReceiptHandle);
 * ```
 */
export class SqsDeletes {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly send: SendDeleteBatch) {}

  /** Deletes one message (by its receipt handle) with the others of this turn. */
  delete(handle: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ handle, resolve, reject });
      if (this.waiting.length >= MOST_PER_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what waits now, and resolves once every request sent so far has been answered. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all(this.inFlight);
  }

  private flush(): void {
    this.scheduled = false;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MOST_PER_BATCH);
      const sent = this.sendBatch(batch);
      this.inFlight.add(sent);
      void sent.finally(() => this.inFlight.delete(sent));
    }
  }

  private async sendBatch(batch: Waiting[]): Promise<void> {
    let output: DeleteBatchOutput;
    try {
      output = await this.send(batch.map((w, i) => ({ Id: String(i), ReceiptHandle: w.handle })));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const w of batch) w.reject(failure);
      return;
    }
    const failed = new Map((output.Failed ?? []).map((f) => [f.Id, f]));
    batch.forEach((w, i) => {
      const f = failed.get(String(i));
      if (f) w.reject(new Error(`SQS did not delete the message: ${f.Code}: ${f.Message}`));
      else w.resolve();
    });
  }
}
