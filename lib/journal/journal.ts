import type { CloudEvent } from '../events/cloudevent';

/** One accepted delivery as the journal keeps it until it ends. */
export interface JournalEntry {
  /** The delivery's stable ID: the same on every attempt and after a restart. */
  readonly deliveryId: string;
  readonly space: string;
  /** The event as accepted (with its `deliveryid` extension). */
  readonly event: CloudEvent;
  readonly subscriptionId: string;
  readonly functionId: string;
  /** Attempts made so far (as last recorded: a crash may lose the last few counts). */
  readonly attempts: number;
  /** When it was accepted, in ms since the epoch: `maxAge` counts from here across restarts. */
  readonly acceptedAt: number;
}

/** How much a journal holds. */
export interface JournalSize {
  /** Unfinished deliveries. */
  readonly entries: number;
  /** Bytes on disk, where the journal can tell. */
  readonly bytes?: number;
}

/**
 * Where accepted deliveries are recorded before `emit` resolves, so that a crash loses none of
 * them: the gateway records them (`record`, durable when it resolves), notes attempts, marks each
 * delivery finished when it is delivered or dead-lettered, and on start resumes every delivery
 * `open` returns. Built in: {@link LocalJournal} (one process, on its disk).
 */
export interface Journal {
  /** Opens the journal; resolves with the unfinished deliveries to resume. Called once. */
  open(): Promise<JournalEntry[]>;
  /** Records deliveries durably; many concurrent calls may share one sync (group commit). */
  record(entries: readonly JournalEntry[]): Promise<void>;
  /** Notes a delivery's attempt count (not awaited: a crash may lose the last counts). */
  attempted(deliveryId: string, attempts: number): void;
  /** Marks deliveries finished (delivered or dead-lettered): they are never resumed. */
  finished(deliveryIds: readonly string[]): void;
  /** What the journal holds now. */
  size(): JournalSize;
  /** Writes what is pending and closes. Idempotent. */
  close(): Promise<void>;
}
