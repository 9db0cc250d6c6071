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
  const out: LabelledConnection[] = figures
    .slice(0, max)
    .map((f) => ({ space: f.space, connection: f.connectionId, state: f.state, ...one(f) }));
  if (figures.length <= max) return out;
  const other = { space: OTHER_CONNECTIONS, connection: OTHER_CONNECTIONS, ...one(figures[max]) };
  for (const f of figures.slice(max + 1)) {
    const add = one(f);
    for (const key of Object.keys(add) as (keyof typeof add)[]) other[key] += add[key];
  }
  out.push(other);
  return out;
}

/**
 * Per connection, labelled by space and connection ID (bounded: past 1,000 connections the rest
 * are summed under `(other)`), read from `health().connections` when Prometheus scrapes: messages
 * by outcome, retries, failed acknowledgements, messages in flight, units owned, the state, and
 * whether it has reported an error (`health()` says which). Returns the metric names.
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
  one(
    'gauge',
    'connection_failing',
    'Whether the connection has reported an error (1; for (other), how many have): health().connections says which.',
    (row) => row.failing,
  );
  return names;
}
