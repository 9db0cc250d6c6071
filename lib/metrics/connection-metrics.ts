/**
 * What the per-connection metrics read of a gateway's `health().connections` (typed here, below
 * the sources that produce it).
 */
export interface ConnectionFigures {
  readonly space: string;
  readonly connectionId: string;
  /** `starting`, `running`, `paused` (backpressure) or `closed`. */
  readonly state: string;
  /** Messages taken and not yet acknowledged. */
  readonly inFlight: number;
  /** Messages whose event was accepted, then acknowledged. */
  readonly accepted: number;
  /** Messages refused and dead-lettered, then acknowledged. */
  readonly refused: number;
  /** Attempts to enter an event that the gateway could not accept yet. */
  readonly retries: number;
  /** Acknowledgements the source failed (the message comes again). */
  readonly ackFailures: number;
  /** The units of work this instance owns (partitions, shards, a schedule's tick). */
  readonly owned: readonly string[];
  /**
   * How many messages the connection is behind its source, as last measured (absent while not
   * known): Kafka, the sum over the partitions this instance owns of the high watermark minus
   * the group's committed offset (the next message to consume: messages in flight count), as of
   * the last batch fetched or the last read of the topic's offsets (every 5 s, so that a paused
   * source's lag still grows; absent when that read failed or timed out and a partition's last
   * batch is older than 5 s: a paused source's last batch is no news); SQS, the queue's `ApproximateNumberOfMessages` plus
   * `ApproximateNumberOfMessagesNotVisible` (in flight, on any instance), read every 5 s; AMQP,
   * the queue's ready messages (`messageCount` of a passive declare: those delivered and not
   * acknowledged are not counted, `inFlight` counts this instance's), read every 5 s. The SQS
   * and AMQP figures are the queue's: every instance of a fleet reports the same, not a share.
   */
  readonly lagMessages?: number;
  /**
   * How far behind its source the connection is in time, in ms, as last measured (absent while
   * not known): Kinesis, the largest `MillisBehindLatest` of the last GetRecords of each shard
   * this instance owns (how far the last record read is from the shard's tip: 0 when caught
   * up); schedules, how late the last tick this instance fired was delivered (from the tick's
   * time to its event handed to the gateway).
   */
  readonly lagMs?: number;
  /** The last error the connection reported, if any. */
  readonly lastError?: string;
}

/** Sets or adds one sample of a metric. */
type Sample = (labels: Record<string, string>, value: number) => void;

/** The label values that stand for every connection past {@link MAX_CONNECTION_SERIES}. */
export const OTHER_CONNECTIONS = '(other)';

/**
 * The most connections labelled one by one: a series per connection per metric, however many
 * connections tenants create. The rest are summed under `(other)`.
 */
export const MAX_CONNECTION_SERIES = 1000;

/** The figures of one connection, or of every connection past the bound summed. */
export interface LabelledConnection {
  readonly space: string;
  readonly connection: string;
  /** Its state, or undefined for the `(other)` sum. */
  readonly state?: string;
  readonly inFlight: number;
  readonly accepted: number;
  readonly refused: number;
  readonly retries: number;
  readonly ackFailures: number;
  readonly owned: number;
  /** How many of them have reported an error. */
  readonly failing: number;
  /** Messages behind (for `(other)`, summed), when known. */
  readonly lagMessages?: number;
  /** Time behind in ms (for `(other)`, the largest), when known. */
  readonly lagMs?: number;
}

/**
 * The connections as metrics label them: the first `max` one by one (in the order given, which
 * `health()` sorts by space and ID, so the same ones keep their series), the rest summed under
 * `(other)`.
 * @example
 * ```ts
 * labelledConnections(gateway.health().connections ?? []); // [{ space: 'default', connection: 'tick', accepted: 3, ... }]
 * ```
 */
export function labelledConnections(
  figures: readonly ConnectionFigures[],
  max = MAX_CONNECTION_SERIES,
): LabelledConnection[] {
  const one = (f: ConnectionFigures) => ({
    inFlight: f.inFlight,
    accepted: f.accepted,
    refused: f.refused,
    retries: f.retries,
    ackFailures: f.ackFailures,
    owned: f.owned.length,
    failing: f.lastError === undefined ? 0 : 1,
  });
  const lag = (f: ConnectionFigures) => ({
    ...(f.lagMessages === undefined ? {} : { lagMessages: f.lagMessages }),
    ...(f.lagMs === undefined ? {} : { lagMs: f.lagMs }),
  });
  const out: LabelledConnection[] = figures.slice(0, max).map((f) => ({
    space: f.space,
    connection: f.connectionId,
    state: f.state,
    ...one(f),
    ...lag(f),
  }));
  if (figures.length <= max) return out;
  const rest = figures.slice(max);
  const other = { space: OTHER_CONNECTIONS, connection: OTHER_CONNECTIONS, ...one(rest[0]) };
  for (const f of rest.slice(1)) {
    const add = one(f);
    for (const key of Object.keys(add) as (keyof typeof add)[]) other[key] += add[key];
  }
  // Messages behind add up; time behind does not (the most behind one says how late it is).
  const known = (values: (number | undefined)[]) =>
    values.filter((value): value is number => value !== undefined);
  const messages = known(rest.map((f) => f.lagMessages));
  const ms = known(rest.map((f) => f.lagMs));
  out.push({
    ...other,
    ...(messages.length === 0 ? {} : { lagMessages: messages.reduce((a, b) => a + b, 0) }),
    ...(ms.length === 0 ? {} : { lagMs: ms.reduce((a, b) => Math.max(a, b)) }),
  });
  return out;
}

/**
 * Per connection, labelled by space and connection ID (bounded: past 1,000 connections the rest
 * are summed under `(other)`), read from `health().connections` when Prometheus scrapes: messages
 * by outcome, retries, failed acknowledgements, messages in flight, units owned, the state, and
 * whether it has reported an error (`health()` says which), and its lag
 * (`connection_lag_messages`, `connection_lag_seconds`: see {@link ConnectionFigures.lagMessages}
 * and {@link ConnectionFigures.lagMs}). Returns the metric names.
 * @example
 * ```ts
 * names.push(...registerConnectionMetrics(prom, registry, 'eventgateway_', {}, gateway));
 * ```
 */
export function registerConnectionMetrics(
  prom: typeof import('prom-client'),
  registry: import('prom-client').Registry,
  prefix: string,
  labels: Record<string, string>,
  gateway: { health?(): { readonly connections?: readonly ConnectionFigures[] } },
): string[] {
  const labelNames = [...Object.keys(labels), 'space', 'connection'];
  const rows = () => labelledConnections(gateway.health?.().connections ?? []);
  const at = (row: LabelledConnection) => ({
    ...labels,
    space: row.space,
    connection: row.connection,
  });
  const names: string[] = [];
  /** A counter or gauge whose samples `fill` gives for each connection at every scrape. */
  const define = (
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    fill: (row: LabelledConnection, sample: Sample) => void,
    extra: readonly string[] = [],
  ) => {
    names.push(prefix + name);
    const config = {
      name: prefix + name,
      help,
      labelNames: [...labelNames, ...extra],
      registers: [registry],
    };
    if (kind === 'counter') {
      new prom.Counter({
        ...config,
        collect() {
          this.reset();
          for (const row of rows()) fill(row, (labels, value) => this.inc(labels, value));
        },
      });
    } else {
      new prom.Gauge({
        ...config,
        collect() {
          this.reset();
          for (const row of rows()) fill(row, (labels, value) => this.set(labels, value));
        },
      });
    }
  };
  define(
    'counter',
    'connection_messages_total',
    "Messages taken from each connection's source and acknowledged, by outcome: accepted (its event entered the gateway) or refused (dead-lettered).",
    (row, sample) => {
      sample({ ...at(row), outcome: 'accepted' }, row.accepted);
      sample({ ...at(row), outcome: 'refused' }, row.refused);
    },
    ['outcome'],
  );
  define(
    'gauge',
    'connection_state',
    "Each connection's state on this instance (1): starting (or retried), running, paused (backpressure).",
    (row, sample) => row.state && sample({ ...at(row), state: row.state }, 1),
    ['state'],
  );
  const one = (
    kind: 'counter' | 'gauge',
    name: string,
    help: string,
    value: (row: LabelledConnection) => number,
  ) => define(kind, name, help, (row, sample) => sample(at(row), value(row)));
  one(
    'counter',
    'connection_retries_total',
    "Attempts to enter a message's event that the gateway could not accept yet (backpressure, store down).",
    (row) => row.retries,
  );
  one(
    'counter',
    'connection_ack_failures_total',
    'Acknowledgements the source failed (the message comes again).',
    (row) => row.ackFailures,
  );
  one(
    'gauge',
    'connection_in_flight',
    'Messages taken and not yet acknowledged.',
    (row) => row.inFlight,
  );
  one(
    'gauge',
    'connection_owned_units',
    'Units of work this instance owns (Kafka partitions, Kinesis shards, leases).',
    (row) => row.owned,
  );
  define(
    'gauge',
    'connection_lag_messages',
    "How many messages each connection is behind its source (Kafka: high watermark minus committed offset over the partitions owned here; SQS: the queue's visible and in-flight messages; AMQP: the queue's ready messages). No sample while not known.",
    (row, sample) => row.lagMessages !== undefined && sample(at(row), row.lagMessages),
  );
  define(
    'gauge',
    'connection_lag_seconds',
    'How far behind its source each connection is in time (Kinesis: the largest MillisBehindLatest of the shards owned here; schedules: how late the last tick fired here was). No sample while not known.',
    (row, sample) => row.lagMs !== undefined && sample(at(row), row.lagMs / 1000),
  );
  one(
    'gauge',
    'connection_failing',
    'Whether the connection has reported an error (1; for (other), how many have): health().connections says which.',
    (row) => row.failing,
  );
  return names;
}
