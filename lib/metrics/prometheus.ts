import { optionsArgument } from '../model/checks';
import { requireOptionalPeer } from '../model/optional-peer';
import { registerConnectionMetrics, type ConnectionFigures } from './connection-metrics';
import type { FunctionMetrics } from './function-counters';
import type { AttemptObserver, MetricsSnapshot } from './gateway-metrics';

/**
 * A prom-client `Registry` (typed structurally, so that the declarations do not need prom-client:
 * it is an optional peer dependency).
 */
export interface PrometheusRegistry {
  /** Unregisters a metric by name. */
  removeSingleMetric(name: string): void;
}

/** What the Prometheus bridge needs of a gateway. */
export interface MetricsSource {
  /** The current figures. */
  metrics(): MetricsSnapshot;
  /** Delivery counts per function (bounded). */
  functionMetrics(): readonly FunctionMetrics[];
  /** Receives each attempt's duration in ms and its function; returns a function that stops it. @internal */
  observeAttempts(observer: AttemptObserver): () => void;
  /** The connections this instance runs (none when it runs none), read for per-connection metrics. */
  health?(): { readonly connections?: readonly ConnectionFigures[] };
}

/** Options of {@link registerPrometheusMetrics}. */
export interface PrometheusOptions {
  /**
   * The registry to register in.
   * @default prom-client's global registry
   */
  registry?: PrometheusRegistry;
  /**
   * Prefix of every metric name.
   * @default 'eventgateway_'
   */
  prefix?: string;
  /** Labels added to every metric, e.g. `{ instance: 'a' }` when several gateways share a registry. */
  labels?: Record<string, string>;
}

const COUNTERS: [keyof MetricsSnapshot, string, string][] = [
  ['eventsReceived', 'events_received_total', 'Events validated and routed.'],
  ['eventsRejected', 'events_rejected_total', 'Events refused (invalid, or no room in the queue).'],
  ['eventsLooped', 'events_looped_total', 'Events refused for looping (past maxHops).'],
  ['eventsRefused', 'events_refused_total', 'Events refused by (or failing) an intake plugin.'],
  ['deliveriesAccepted', 'deliveries_accepted_total', 'Deliveries accepted.'],
  ['deliveriesSucceeded', 'deliveries_succeeded_total', 'Deliveries that succeeded.'],
  ['deliveriesRetried', 'deliveries_retried_total', 'Failed attempts followed by a retry.'],
  ['deliveriesDeadLettered', 'deliveries_dead_lettered_total', 'Deliveries that failed for good.'],
  [
    'callsSucceeded',
    'calls_succeeded_total',
    'Direct calls (sync subscriptions, authorizers) that succeeded.',
  ],
  ['callsFailed', 'calls_failed_total', 'Direct calls that failed.'],
];

/**
 * prom-client, an optional peer dependency loaded only by those who ask for Prometheus: a missing
 * one is the host's setup to fix, told as such (like `tracing` without `@opentelemetry/api`).
 */
function loadPromClient(): typeof import('prom-client') {
  return requireOptionalPeer<typeof import('prom-client')>('prom-client', {
    feature: 'registerPrometheusMetrics',
  });
}

/**
 * Exposes a gateway's metrics through prom-client (an optional peer dependency, loaded on this
 * call). Counters and gauges are read from `gateway.metrics()` when Prometheus scrapes; attempt
 * durations feed a prom-client histogram (seconds) as they happen. Returns a function that
 * unregisters them. Throws a `ValidationError` saying how to install prom-client when it is missing.
 *
 * @example
 * ```ts
 * import { register } from 'prom-client';
 * registerPrometheusMetrics(gateway);
 * app.get('/metrics', async (req, res) => res.type(register.contentType).send(await register.metrics()));
 * ```
 */
export function registerPrometheusMetrics(
  gateway: MetricsSource,
  options: PrometheusOptions = {},
): () => void {
  if (typeof (gateway as Partial<MetricsSource>)?.metrics !== 'function') {
    throw new TypeError(
      'registerPrometheusMetrics(gateway, options): the first argument must be a gateway.',
    );
  }
  optionsArgument(options, 'registerPrometheusMetrics(gateway, options)');
  const prom = loadPromClient();
  const registry = (options.registry ?? prom.register) as import('prom-client').Registry;
  const prefix = options.prefix ?? 'eventgateway_';
  const labels = options.labels ?? {};
  const labelNames = Object.keys(labels);
  const names: string[] = [];
  for (const [field, name, help] of COUNTERS) {
    names.push(prefix + name);
    new prom.Counter({
      name: prefix + name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(labels, gateway.metrics()[field] as number);
      },
    });
  }
  // The journal's gauges are set only with a journal (without one: 0, or no sample when labelled).
  for (const [field, name, help] of [
    ['queueDepth', 'queue_depth', 'Deliveries waiting in the queue.'],
    ['deliveriesPending', 'deliveries_pending', 'Deliveries accepted and not finished.'],
    ['journalEntries', 'journal_entries', 'Unfinished deliveries in the journal.'],
    ['journalBytes', 'journal_bytes', 'Bytes of the records the local journal holds.'],
    [
      'journalDamaged',
      'journal_damaged_records',
      'Journal records that could not be read: set aside (kept for inspection) or passed over.',
    ],
    [
      'journalWaiting',
      'journal_waiting_deliveries',
      'Deliveries from the journal waiting for their function to be configured or bound here.',
    ],
  ] as const) {
    names.push(prefix + name);
    new prom.Gauge({
      name: prefix + name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        const value = gateway.metrics()[field];
        if (value !== undefined) this.set(labels, value);
      },
    });
  }
  // Labelled by space and function: bounded, past 1,000 functions the rest are `(other)`.
  const perFunction = [...labelNames, 'space', 'function'];
  names.push(prefix + 'function_deliveries_total');
  new prom.Counter({
    name: prefix + 'function_deliveries_total',
    help: 'Deliveries and direct calls per function, by outcome (succeeded, retried, dead_lettered).',
    labelNames: [...perFunction, 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const f of gateway.functionMetrics()) {
        const at = { ...labels, space: f.space, function: f.functionId };
        this.inc({ ...at, outcome: 'succeeded' }, f.succeeded);
        this.inc({ ...at, outcome: 'retried' }, f.retried);
        this.inc({ ...at, outcome: 'dead_lettered' }, f.deadLettered);
      }
    },
  });
  // Intake plugins, in the order they run: outcomes of `onEvent`, time spent, their own figures.
  const perPlugin = [...labelNames, 'plugin', 'position'];
  names.push(
    prefix + 'plugin_events_total',
    prefix + 'plugin_seconds_total',
    prefix + 'plugin_stat',
  );
  new prom.Counter({
    name: prefix + 'plugin_events_total',
    help: 'Events seen by each intake plugin, by outcome (passed, enriched, refused, failed, timed_out, failed_open).',
    labelNames: [...perPlugin, 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of gateway.metrics().plugins) {
        const at = { ...labels, plugin: p.name, position: String(p.position) };
        this.inc({ ...at, outcome: 'passed' }, p.passed);
        this.inc({ ...at, outcome: 'enriched' }, p.enriched);
        this.inc({ ...at, outcome: 'refused' }, p.refused);
        this.inc({ ...at, outcome: 'failed' }, p.failed);
        this.inc({ ...at, outcome: 'timed_out' }, p.timedOut);
        this.inc({ ...at, outcome: 'failed_open' }, p.failedOpen);
      }
    },
  });
  new prom.Counter({
    name: prefix + 'plugin_seconds_total',
    help: "Time spent in each intake plugin's onEvent.",
    labelNames: perPlugin,
    registers: [registry],
    collect() {
      this.reset();
      for (const p of gateway.metrics().plugins) {
        this.inc(
          { ...labels, plugin: p.name, position: String(p.position) },
          p.duration.sum / 1000,
        );
      }
    },
  });
  new prom.Gauge({
    name: prefix + 'plugin_stat',
    help: "What each intake plugin reports of itself (an archive's buffer, writes, drops...).",
    labelNames: [...perPlugin, 'stat'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of gateway.metrics().plugins) {
        for (const [stat, value] of Object.entries(p.stats ?? {})) {
          this.set({ ...labels, plugin: p.name, position: String(p.position), stat }, value);
        }
      }
    },
  });
  names.push(...registerConnectionMetrics(prom, registry, prefix, labels, gateway));
  const histogram = new prom.Histogram({
    name: prefix + 'attempt_duration_seconds',
    help: 'Duration of each delivery attempt.',
    labelNames: perFunction,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  names.push(prefix + 'attempt_duration_seconds');
  const stop = gateway.observeAttempts((ms, space, functionId) =>
    histogram.observe({ ...labels, space, function: functionId }, ms / 1000),
  );
  return () => {
    stop();
    for (const name of names) registry.removeSingleMetric(name);
  };
}
