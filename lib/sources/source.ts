import type { ConnectionFigures } from '../metrics/connection-metrics';
import type { ConnectionRecord } from '../model/connection';
import type { OutboundCheck } from '../model/outbound-policy';
import type { StoreLeases } from './store-leases';

/**
 * One message a source pulled. The run turns it into an event, hands it to the gateway, and
 * calls `ack` only once the event was accepted (or refused and dead-lettered): a message never
 * acknowledged is delivered again by the source (by this instance or another).
 */
export interface SourceMessage {
  /**
   * Unique within the connection and stable across redeliveries: the event's `id` (Kafka
   * `partition-offset`, an SQS message ID, a schedule's tick time).
   */
  readonly id: string;
  /** The payload as the source gave it. */
  readonly body: Buffer | string;
  /** When the source says the message was produced. */
  readonly time?: Date;
  /** The payload's media type, when the source says (an AMQP property, a Kafka header). */
  readonly contentType?: string;
  /** Acknowledges the message (commit the offset, delete it, ack it): the run calls it once. */
  ack(): Promise<void>;
  /**
   * Gives the message back unacknowledged (the connection stops or the gateway closes while it is
   * in flight), so that the source redelivers it soon rather than after a timeout. Optional.
   */
  release?(): Promise<void>;
}

/** What a source is given: the connection, where messages go, and the fleet's leases. */
export interface SourceContext {
  /** The connection, with its secrets (a source needs its credentials). */
  readonly record: ConnectionRecord;
  /**
   * Hands a message to the run. Never blocks and never throws: the run counts what is in flight
   * and calls the source's `pause()` when the connection's `maxInFlight` is reached.
   */
  deliver(message: SourceMessage): void;
  /** Leases in the gateway's own store, for units of work only one instance may run. */
  readonly leases: StoreLeases;
  /** A failure of the source itself (a lost connection): kept as the connection's last error. */
  fail(error: Error): void;
  /** The units of work this instance owns now (partitions, a schedule), for health. */
  owned(units: readonly string[]): void;
  /**
   * The gateway's `limits.minScheduleInterval` (ms), which a schedule keeps to whatever its
   * stored expression says. @default none
   */
  readonly minScheduleInterval?: number;
  /**
   * The outbound policy the connection's writer is held to, checked on every connect on the
   * addresses its hosts resolve to then (see source-outbound.ts); none for a source that
   * connects nowhere, or when the runner was given no policy.
   */
  readonly outbound?: OutboundCheck;
}

/**
 * A running source: the small interface every backend implements. `start` connects and begins
 * pulling; `pause`/`resume` are backpressure (no message is delivered while paused, beyond those
 * already fetched); `close` stops pulling, and releases or leaves unacknowledged what is in flight.
 */
export interface Source {
  start(): Promise<void>;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
  /**
   * How far behind its source the connection is, as last measured here (never a request made
   * on the spot: `health()` and Prometheus scrapes read it): see {@link SourceLag}. Optional; a
   * figure not known yet (nothing measured, or the measure failed) is left out.
   */
  lag?(): SourceLag;
}

/**
 * A source's lag, in `health().connections` and Prometheus: `lagMessages` for the sources that
 * count messages (Kafka, SQS, AMQP), `lagMs` for those that measure time (Kinesis, schedules).
 */
export type SourceLag = Pick<ConnectionFigures, 'lagMessages' | 'lagMs'>;

/**
 * Builds the source of a connection. Backends load their client library (an optional peer)
 * inside, so that a gateway that runs no such connection never loads it.
 * @example
 * ```ts
 * const factory: SourceFactory = async (context) => new MySource(context);
 * ```
 */
export type SourceFactory = (context: SourceContext) => Source | Promise<Source>;
