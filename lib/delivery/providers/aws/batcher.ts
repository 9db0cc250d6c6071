import type { InvocationContext } from '../../provider';
import { abortHook } from '../abort-hook';

/** A batch API's limits: entries per call, and bytes per call. */
export interface BatchLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** How a batcher sends: one entry alone, or several in one call (each with its own outcome). */
export interface BatchSender<E, R> {
  one(entry: E, signal: AbortSignal): Promise<R>;
  /** Resolves with one outcome per entry, in order: a result, or the Error of that entry. */
  many(entries: readonly E[]): Promise<(R | Error)[]>;
}

interface Waiting<E, R> {
  readonly entry: E;
  readonly bytes: number;
  readonly context: InvocationContext;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Gathers the deliveries waiting for one target (a queue, a stream) into batch calls: what is
 * added in one turn of the event loop goes out at its end, in calls within the API's limits, and
 * a full batch goes out at once. A lone entry goes out through the single-entry call. Every
 * entry keeps its own outcome: a partial failure fails exactly the entries that failed, which the
 * dispatcher then retries or dead-letters one by one. An entry whose attempt was aborted before
 * its batch left is not sent.
 */
export class Batcher<E, R> {
  private readonly waiting = new Map<string, Waiting<E, R>[]>();
  private readonly bytes = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly limits: BatchLimits,
    private readonly sender: BatchSender<E, R>,
  ) {}

  add(target: string, entry: E, bytes: number, context: InvocationContext): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let queue = this.waiting.get(target);
      if (!queue) this.waiting.set(target, (queue = []));
      if (queue.length > 0 && (this.bytes.get(target) ?? 0) + bytes > this.limits.maxBytes) {
        this.flush(target);
        this.waiting.set(target, (queue = []));
      }
      queue.push({ entry, bytes, context, resolve, reject });
      this.bytes.set(target, (this.bytes.get(target) ?? 0) + bytes);
      if (queue.length >= this.limits.maxEntries) this.flush(target);
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          for (const key of [...this.waiting.keys()]) this.flush(key);
        });
      }
    });
  }

  private flush(target: string): void {
    const queue = this.waiting.get(target);
    this.waiting.delete(target);
    this.bytes.delete(target);
    const live = queue?.filter((w) => !abortHook(w.context).aborted) ?? [];
    if (live.length === 0) return;
    if (live.length === 1) {
      const [only] = live;
      // Read only when needed: an attempt's signal costs an AbortController.
      this.sender.one(only.entry, only.context.signal).then(only.resolve, only.reject);
      return;
    }
    this.sender.many(live.map((w) => w.entry)).then(
      (outcomes) =>
        live.forEach((w, i) => {
          const outcome = outcomes[i];
          if (outcome instanceof Error) w.reject(outcome);
          else w.resolve(outcome);
        }),
      (error: unknown) => live.forEach((w) => w.reject(error)),
    );
  }
}
