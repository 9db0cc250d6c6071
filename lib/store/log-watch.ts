import { RevisionCompactedError } from '../errors';
import type { LogBackend, LogHead, LogRecord } from './log-backend';
import { recordsBetween } from './log-listing';
import type { Watch, WatchChange, WatchEvent, WatchListener } from './store';

/** What a {@link LogWatch} needs from its store. */
export interface LogWatchOptions {
  readonly backend: LogBackend;
  /** Runs a read within the store's request timeout, with its errors converted. */
  readonly call: <T>(read: () => Promise<T>) => Promise<T>;
  /** Reads the head (creating it in an empty store). */
  readonly head: () => Promise<LogHead>;
  /** The revision up to which history is gone. */
  readonly floor: (head: LogHead) => Promise<number>;
  readonly prefix: string;
  readonly fromRevision: number;
  readonly listener: WatchListener;
  /** How long to wait on an unchanged head before reading it again (and reporting progress). */
  readonly checkInterval: number;
  readonly onClose: () => void;
}

/**
 * A watch over a change log: delivers the records from the first one at or after `fromRevision`,
 * then waits for the head to move and delivers the new ones. It never skips a record: when one it
 * needs is gone (trimmed), or the store was emptied and made anew, it ends with a `reset`; when
 * the server cannot be read, with an `error`. An unchanged head after `checkInterval` is reported
 * as progress (an empty batch), so the cache knows the server still answers.
 */
export class LogWatch implements Watch {
  private readonly abort = new AbortController();
  private done = false;

  constructor(private readonly options: LogWatchOptions) {
    this.run().catch((error: unknown) =>
      this.end(
        error instanceof RevisionCompactedError
          ? { type: 'reset', reason: error.message }
          : { type: 'error', error: error instanceof Error ? error : new Error(String(error)) },
      ),
    );
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.abort.abort();
    this.options.onClose();
  }

  private async run(): Promise<void> {
    const { backend, fromRevision } = this.options;
    const { call } = this.options;
    let head = await call(this.options.head);
    const cluster = head.cluster;
    let next = head.seq + 1;
    if (fromRevision <= head.revision) {
      const floor = await call(() => this.options.floor(head));
      if (fromRevision <= floor) {
        return this.end({
          type: 'reset',
          reason: `revision ${fromRevision} is older than the change log (it starts after ${floor}).`,
        });
      }
      while (next - 1 >= head.oldest && !this.done) {
        const [record] = await call(() => backend.readRecords([next - 1]));
        if (!record) throw new RevisionCompactedError('the change log was trimmed meanwhile.', 0);
        if (record.revision < fromRevision) break;
        next--;
      }
    }
    let prefetched: LogRecord | undefined;
    while (!this.done) {
      if (head.seq >= next) {
        const from = next;
        const first = prefetched?.seq === from ? [prefetched] : [];
        const rest = await call(() => recordsBetween(backend, from + first.length, head.seq));
        if (this.done) return;
        this.deliver([...first, ...rest]);
        next = head.seq + 1;
      }
      const change = await backend.waitForHead(head, this.options.checkInterval, this.abort.signal);
      if (this.done || !change) return;
      const seen = change.head;
      if (!seen || seen.cluster !== cluster) {
        return this.end({ type: 'reset', reason: 'the store was emptied and made anew.' });
      }
      if (seen.seq < next - 1 || seen.oldest > next) {
        return this.end({ type: 'reset', reason: 'the change log moved past this watch.' });
      }
      if (seen.token === head.token) {
        this.emit({ type: 'changes', revision: head.revision, changes: [] });
      }
      prefetched = change.next;
      head = seen;
    }
  }

  private deliver(records: readonly LogRecord[]): void {
    const { prefix } = this.options;
    const changes: WatchChange[] = [];
    for (const record of records) {
      for (const change of record.c) {
        const key = change[1];
        if (!key.startsWith(prefix)) continue;
        if (change[0] === 'd') {
          changes.push({ type: 'delete', key, modRevision: record.revision });
        } else {
          const prior = change[3];
          const createRevision = prior ? prior[1] : record.revision;
          const kv = { key, value: change[2], createRevision, modRevision: record.revision };
          changes.push({ type: 'put', kv });
        }
      }
    }
    this.emit({ type: 'changes', revision: records[records.length - 1].revision, changes });
  }

  private emit(event: WatchEvent): void {
    if (!this.done) this.options.listener(event);
  }

  private end(event: WatchEvent): void {
    if (this.done) return;
    this.emit(event);
    this.close();
  }
}
