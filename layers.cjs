// The layers of the code, lowest first: the one statement of their order. A module may import its
// own layer and those below it, never one above, types included (eslint.config.mjs enforces it with
// scripts/eslint-layers.cjs; __tests__/unit/layers.test.ts proves the rule fires and that nothing
// forms a cycle). DESIGN.md draws the same picture. A path ending in `/` is a folder.

/** @type {readonly { layer: string, paths: readonly string[], about: string }[]} */
module.exports = [
  {
    layer: 'model',
    paths: ['lib/errors.ts', 'lib/model/'],
    about: 'records, checks, patterns, outbound policy, errors (leaves)',
  },
  {
    layer: 'store',
    paths: ['lib/store/'],
    about: 'Store contract; MemoryStore; etcd, ZooKeeper, Consul; dev servers',
  },
  {
    layer: 'cache',
    paths: ['lib/cache/'],
    about: 'ConfigCache: list + watch over the store, change batches in revision order, readiness',
  },
  {
    layer: 'events',
    paths: ['lib/events/', 'lib/metrics/', 'lib/clients/'],
    about:
      'CloudEvents parse/serialize, system events; counters; shared clients (one Kafka client)',
  },
  {
    layer: 'tracing',
    paths: ['lib/tracing/'],
    about:
      'OpenTelemetry through its optional API (loaded lazily): acceptance, attempt and replay spans; W3C trace context',
  },
  {
    layer: 'plugins',
    paths: ['lib/plugins/'],
    about: 'the contracts upper layers implement and the pipeline calls (a leaf for what is below)',
  },
  {
    layer: 'delivery',
    paths: ['lib/delivery/'],
    about: 'Dispatcher, one attempt path, providers; knows nothing of plugins, routes or journals',
  },
  {
    layer: 'sinks',
    paths: ['lib/sinks/'],
    about: 'archives (S3, Kafka) and replay from them',
  },
  {
    layer: 'journal',
    paths: ['lib/journal/'],
    about: 'accepted deliveries kept until they end: local (embedded storage), Kafka',
  },
  {
    layer: 'routing',
    paths: ['lib/router/'],
    about: 'Router: (space, type, method, path) -> subscriptions, then content filters; no I/O',
  },
  {
    layer: 'intake',
    paths: ['lib/intake/'],
    about: 'plugin chain and its gate (time budget, fail closed/open)',
  },
  {
    layer: 'pipeline',
    paths: ['lib/pipeline/'],
    about: 'accept -> screen -> route -> record -> dispatch -> outcomes, for every event',
  },
  {
    layer: 'config',
    paths: ['lib/config/'],
    about: "the Configuration API's rules: validate, plan a transaction from the cache",
  },
  {
    layer: 'sources',
    paths: ['lib/sources/'],
    about: 'connections: Kafka, Kinesis, SQS, AMQP, schedules -> events',
  },
  {
    layer: 'gateway',
    paths: ['lib/gateway.ts', 'lib/gateway/', 'lib/options.ts'],
    about: 'createGateway(store, options): the composition root and the public object',
  },
  {
    layer: 'http',
    paths: ['lib/http/'],
    about: 'Events API, Configuration API, access control',
  },
  {
    layer: 'adapters',
    paths: ['lib/adapters/'],
    about: 'node:http, Express and Koa: a framework request to the neutral shape and back',
  },
  {
    layer: 'entries',
    paths: [
      'lib/index.ts',
      'lib/etcd.ts',
      'lib/zookeeper.ts',
      'lib/consul.ts',
      'lib/aws.ts',
      'lib/kafka.ts',
      'lib/dev.ts',
      'lib/testing/',
    ],
    about: "the package's entry points: the root and one subpath per backend, the test kit",
  },
  {
    layer: 'cli',
    paths: ['bin/'],
    about: 'the event-gateway command: flags, logs, signals; only the public API below it',
  },
];
