import type { CloudEvent } from '../model/cloud-event';

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
  /**
   * The W3C `traceparent` of the event's acceptance span, when the gateway traced it: a resumed
   * delivery's attempts stay in its trace. Absent in records of untraced events and of earlier
   * versions; read from storage, so checked before use.
   */
  readonly traceparent?: string;
  /** The `tracestate` that goes with `traceparent`, if the trace has one. */
  readonly tracestate?: string;
}

/** A resumed delivery's attempt about to be made: see `Journal.attemptsBeforeResuming`. */
export interface ResumedAttempt {
  readonly deliveryId: string;
  /** The attempt's number (the attempts recorded, plus this one). */
  readonly attempts: number;
}

/** How much a journal holds. */
export interface JournalSize {
  /** Unfinished deliveries. */
  readonly entries: number;
  /** Bytes on disk, where the journal can tell. */
  readonly bytes?: number;
  /**
   * Records that could not be read and were set aside (kept for inspection, reported on
   * `gateway.error`): LocalJournal counts those it keeps, KafkaJournal those it passed over.
   */
  readonly damaged?: number;
  /** Why the journal refuses every record now (a failed write), while it does. */
  readonly failure?: string;
}

/** What a journal hands its deliveries to: the gateway that opened it. */
export interface JournalSink {
  /**
   * Takes deliveries to make (unfinished ones after a restart, or, from a shared journal, the
   * ones this instance was assigned). Resolves once they are accepted; rejects when the gateway
   * is closing (it takes nothing then: leave them for the next start or another instance).
   */
  take(entries: readonly JournalEntry[]): Promise<void>;
  /** Reports a failure that has no caller to go to (an entry that cannot be read, a lost commit). */
  report(error: Error): void;
}

/**
 * Where accepted deliveries are recorded before `emit` resolves, so that a crash loses none of
 * them: the gateway records them (`record`, durable when it resolves), notes attempts, marks each
 * delivery finished when it is delivered or dead-lettered, and makes every delivery the journal
 * hands to its sink. Built in: {@link LocalJournal} (one process, on its disk) and
 * {@link KafkaJournal} (a fleet, on a Kafka topic).
 */
export interface Journal {
  /**
   * `true` when the instance that records a delivery is not the one that makes it: recorded
   * deliveries come back through the sink of whichever instance the journal assigns them to
   * (a Kafka consumer group). `false` or absent: the recording instance makes them, and the sink
   * only receives what a previous run left unfinished.
   */
  readonly shared?: boolean;
  /**
   * How long a delivery the journal hands back waits for its function to be configured (and, for
   * a `local` function, its handler bound on this instance) before it is dead-lettered, in ms:
   * the app may configure itself after the gateway opened the journal. `Infinity` or absent: as
   * long as it takes (it stays in the journal meanwhile); 0: dead-lettered at once.
   */
  readonly waitForFunctions?: number;
  /** Opens the journal and starts handing deliveries to the sink. Called once. */
  open(sink: JournalSink): Promise<void>;
  /** Records deliveries durably; many concurrent calls may share one sync (group commit). */
  record(entries: readonly JournalEntry[]): Promise<void>;
  /** Notes a delivery's attempt count (not awaited: a crash may lose the last counts). */
  attempted(deliveryId: string, attempts: number): void;
  /**
   * Writes the attempt counts of deliveries it handed back, before those attempts are made
   * (`attempted`'s lazy write would come after them): resolves once a crash of this process
   * would not lose them. Without it, a delivery whose attempt brings the process down (a local
   * handler's bug, an out-of-memory) is resumed with the same count on every start, for ever.
   * Optional: a journal that does not keep attempts across instances (KafkaJournal) omits it.
   */
  attemptsBeforeResuming?(counts: readonly ResumedAttempt[]): Promise<void>;
  /** Marks deliveries finished (delivered or dead-lettered): they are never resumed. */
  finished(deliveryIds: readonly string[]): void;
  /** What the journal holds now. */
  size(): JournalSize;
  /** Writes what is pending and closes. Idempotent. */
  close(): Promise<void>;
}
