/** One event as an archive kept it: the event and where and when it was accepted. */
export interface ArchivedEvent {
  readonly space: string;
  /** The method and path it was emitted with (async subscriptions match them). */
  readonly method: string;
  readonly path: string;
  /** When the gateway accepted it, in ms since the epoch. */
  readonly acceptedAt: number;
  /** The event as accepted (JSON): it is validated again when replayed. */
  readonly event: Readonly<Record<string, unknown>>;
}

/** What a replay asks an archive for. */
export interface ArchiveQuery {
  /** Accepted at or after this instant (ms since the epoch). */
  readonly from: number;
  /** Accepted before this instant (ms since the epoch). */
  readonly to: number;
  /** Only this space, when given. */
  readonly space?: string;
  /** Only this event type, when given. */
  readonly type?: string;
  /** Aborted when the replay stops early. */
  readonly signal: AbortSignal;
}

/**
 * An archive that `gateway.replay` can read: {@link S3Archive} and {@link KafkaArchive} are
 * ones. `read` yields the events of a time window in the order they were accepted, and throws
 * ArchiveUnavailableError when the archive cannot be read.
 */
export interface ArchiveSource {
  /** Names the archive in errors and reports. */
  readonly name: string;
  /** The events of the query's window (and space and type), in the order they were accepted. */
  read(query: ArchiveQuery): AsyncIterable<ArchivedEvent>;
}
