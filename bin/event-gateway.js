#!/usr/bin/env node
// The `event-gateway` command: Event Gateway 0.9's server as a thin layer over the library. The
// Events API and the Configuration API on two ports (loopback unless API keys guard them), the
// connections API also on a third (0.9's connector's), the configuration in memory (--dev), etcd,
// ZooKeeper or Consul; it runs the connections unless told not to. Usage errors, a port in use or an
// unreachable store are one line and exit code 2.
const { parseArgs } = require('node:util');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { ARCHIVE_USAGE, ARCHIVE_OPTIONS, parseArchiveFlags, runReplay } = require('./archives');
const {
  NETWORK_USAGE,
  NETWORK_OPTIONS,
  parseNetworkFlags,
  outboundOptions,
  listen,
  describeAddress,
  warnIfOpen,
  protectOwnEndpoints,
} = require('./network');
const {
  STORE_USAGE,
  STORE_OPTIONS,
  refuseSecretFlags,
  parseStoreFlags,
  openStore,
  describeStore,
} = require('./stores');

const USAGE = `Usage: event-gateway [options]

  --events-port N           Events API port (default 4000)
  --config-port N           Configuration API port (default 4001)
  --connector-port N        the connections API alone (/v1/spaces/<space>/connections, as
                            0.9's Event Gateway Connector and its SDK's connectorUrl), with the
                            Configuration API's keys, scopes and address (default 4002); the
                            Configuration API's port serves it too
  --no-connections          configuration only: serve the connections API but run no
                            connection (--connections=false says the same; default: run them)
  --connections-per-space N the most connections a space may hold (default 100; "none": no
                            limit)
  --records-per-space N     the most event types, functions, subscriptions and CORS
                            configurations (each) a space may hold through the APIs (default
                            1000; "none": no limit)
  --min-schedule-interval MS
                            the shortest time between two ticks of a schedule connection
                            (default 1000, as * * * * * * ticks; "none": no limit)
  --workers N               deliveries in flight at once (default 100)
  --workers-backlog N       deliveries waiting beyond those (default 200)
  --drain-timeout MS        on SIGTERM/SIGINT, how long accepted deliveries may drain (default 10000)
  --api-keys-file FILE      JSON list of API keys: [{ "hash", "spaces", "scopes", "name" }]
  --dashboard               serve the dashboard at /dashboard/ on the Configuration API's port
  --log-level LEVEL         trace, debug, info, warn, error or fatal (default info)
  --log-format json|text    (default json)
  -h, --help                this text
  -v, --version             the version

${STORE_USAGE}

${NETWORK_USAGE}

${ARCHIVE_USAGE}

Event Gateway 0.9's single-dash spellings (-dev, -config-port 4001, ...) work too.`;

const OPTIONS = {
  ...STORE_OPTIONS,
  ...NETWORK_OPTIONS,
  'events-port': { type: 'string' },
  'config-port': { type: 'string' },
  'connector-port': { type: 'string' },
  connections: { type: 'string' },
  'no-connections': { type: 'boolean' },
  'connections-per-space': { type: 'string' },
  'records-per-space': { type: 'string' },
  'min-schedule-interval': { type: 'string' },
  workers: { type: 'string' },
  'workers-backlog': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'api-keys-file': { type: 'string' },
  dashboard: { type: 'boolean' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  ...ARCHIVE_OPTIONS,
};

class UsageError extends Error {}

/** 0.9's `-config-port=4001` and `-dev` become `--config-port=4001` and `--dev`. */
function normalize(argv) {
  // Any single-dash word is a long option (0.9 had no short ones): `-bogus` is refused by name.
  return argv.map((arg) => (/^-[a-z][a-z-]+(=.*)?$/.test(arg) ? `-${arg}` : arg));
}

function integer(values, name, fallback, min, max) {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${text}".`);
  }
  return value;
}

/** A `limits` flag: an integer, `none` (null: no limit), or undefined (the default). */
function limit(values, name, min, max) {
  return values[name] === 'none' ? null : integer(values, name, undefined, min, max);
}

function parse(argv) {
  const args = normalize(argv);
  refuseSecretFlags(parseArgs({ args, strict: false, tokens: true }).tokens, UsageError);
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: OPTIONS,
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    throw new UsageError(`${error.message.split('\n')[0]} (see --help)`);
  }
  const replaying = positionals[0] === 'replay';
  if (positionals.length > (replaying ? 1 : 0)) {
    throw new UsageError(`unexpected argument "${positionals.at(-1)}" (see --help)`);
  }
  const store = parseStoreFlags(values, UsageError);
  const format = values['log-format'] ?? 'json';
  if (format !== 'json' && format !== 'text') {
    throw new UsageError(`--log-format must be json or text, got "${format}".`);
  }
  const connections = values.connections ?? 'true';
  if (connections !== 'true' && connections !== 'false') {
    throw new UsageError(`--connections must be true or false, got "${connections}".`);
  }
  if (values['no-connections'] === true && values.connections === 'true') {
    throw new UsageError('--no-connections and --connections=true contradict each other.');
  }
  const level = values['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) {
    throw new UsageError(`--log-level must be trace, debug, info, warn, error or fatal.`);
  }
  return {
    help: values.help === true,
    version: values.version === true,
    store,
    network: parseNetworkFlags(
      values,
      { keys: values['api-keys-file'] !== undefined, dev: store.store === 'memory' },
      UsageError,
    ),
    eventsPort: integer(values, 'events-port', 4000, 0, 65535),
    configPort: integer(values, 'config-port', 4001, 0, 65535),
    connectorPort: integer(values, 'connector-port', 4002, 0, 65535),
    runConnections: connections === 'true' && values['no-connections'] !== true,
    limits: {
      // Left out: the gateway's defaults; "none": no limit (null).
      connectionsPerSpace: limit(values, 'connections-per-space', 0, 1_000_000),
      recordsPerSpace: limit(values, 'records-per-space', 0, 1_000_000_000),
      minScheduleInterval: limit(values, 'min-schedule-interval', 1, 2_147_483_647),
    },
    workers: integer(values, 'workers', 100, 1, 100_000),
    backlog: integer(values, 'workers-backlog', 200, 0, 10_000_000),
    drainTimeout: integer(values, 'drain-timeout', 10_000, 0, 3_600_000),
    apiKeysFile: values['api-keys-file'],
    dashboard: values.dashboard === true,
    level,
    format,
    ...parseArchiveFlags(values, replaying, UsageError),
  };
}

function readApiKeys(file) {
  if (file === undefined) return undefined;
  let keys;
  try {
    keys = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read --api-keys-file ${file}: ${error.message}`);
  }
  if (!Array.isArray(keys)) throw new UsageError(`--api-keys-file ${file} must hold a JSON list.`);
  return keys;
}

/**
 * pino, writing JSON lines, or `time LEVEL msg key=value` lines with --log-format text; to stderr
 * for `replay`, whose stdout is its totals.
 */
function createLogger({ level, format, replay }) {
  const pino = require('pino');
  const out = replay ? process.stderr : process.stdout;
  // A reader that went away (a supervisor's closed log pipe: EPIPE) must neither crash the command
  // nor hang its shutdown (pino's own destination did one or the other): its lines are dropped.
  let gone = false;
  out.on('error', () => (gone = true));
  const emit = (text) => {
    if (gone) return;
    try {
      out.write(text);
    } catch {
      gone = true;
    }
  };
  if (format === 'json') return pino({ level, base: undefined }, { write: emit });
  const names = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  const text = {
    write(line) {
      const { time, level: n, msg, ...rest } = JSON.parse(line);
      const fields = Object.entries(rest).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      emit(`${new Date(time).toISOString()} ${names[n]} ${msg} ${fields.join(' ')}\n`);
    },
  };
  return pino({ level, base: undefined }, text);
}

/** A request listener that logs one line per request (method, path, status, time; no headers). */
function logged(log, api, handler) {
  return (req, res) => {
    const started = performance.now();
    res.on('finish', () => {
      const path = String(req.url ?? '/')
        .split('?')[0]
        .slice(0, 200);
      const ms = Math.round((performance.now() - started) * 10) / 10;
      log.info({ api, method: req.method, path, status: res.statusCode, ms }, 'request');
    });
    handler(req, res);
  };
}

async function main(argv) {
  const options = parse(argv);
  if (options.help) return void process.stdout.write(`${USAGE}\n`);
  if (options.version) {
    const { version } = require(join(__dirname, '..', 'package.json'));
    return void process.stdout.write(`${version}\n`);
  }
  const lib = require('..');
  const apiKeys = readApiKeys(options.apiKeysFile);
  const log = createLogger(options);
  const cleanups = [];
  const store = await openStore(options.store, lib, cleanups, UsageError);
  // A replay's events are not archived again: its gateway needs no archive.
  const archives = options.replay ? [] : options.archives(lib);
  // One line per failed delivery: a dead letter is logged here, and the
  // `function.invocationFailed` event that follows it (synchronously) is skipped; that event alone
  // logs the failures that are no dead letter (a sync subscription's or an authorizer's call).
  let lettered;
  const gateway = lib.createGateway(store, {
    plugins: archives,
    concurrency: options.workers,
    queueSize: options.backlog,
    drainTimeout: options.drainTimeout,
    ...(options.runConnections ? {} : { connections: false }),
    limits: Object.fromEntries(Object.entries(options.limits).filter(([, v]) => v !== undefined)),
    ...outboundOptions(options.network),
    onDeadLetter: (letter) => {
      lettered = letter;
      log.error(
        {
          space: letter.space,
          functionId: letter.functionId,
          eventId: letter.event?.id,
          attempts: letter.attempts,
          lastStatus: letter.lastStatus,
          reason: letter.reason,
        },
        'delivery failed for good',
      );
    },
  });
  gateway.on('function.invocationFailed', (failure) => {
    const logged = lettered?.event === failure.event && lettered?.functionId === failure.functionId;
    lettered = undefined;
    if (logged) return;
    log.warn(
      {
        space: failure.space,
        functionId: failure.functionId,
        eventId: failure.event.id,
        attempts: failure.attempts,
        error: failure.error.message,
      },
      'function call failed',
    );
  });
  gateway.on('gateway.error', (error) => log.error({ error: error.message }, 'gateway error'));
  let storeError;
  gateway.on('store.error', (error) => {
    storeError = error;
    log.warn({ error: error.message }, 'store error');
  });
  // Not unref'd: while the store is unreachable, this timer is what keeps the process waiting.
  let timer;
  const ready = await Promise.race([
    gateway.ready().then(() => true),
    new Promise((resolve) => (timer = setTimeout(resolve, 10_000, false))),
  ]);
  clearTimeout(timer);
  if (!ready) {
    await gateway.close();
    // The last error says why: a refused connection, a bad password, a token without rights.
    const why = storeError ? `: ${storeError.message.split('\n')[0]}` : '.';
    throw new UsageError(`cannot reach ${describeStore(options.store)} (10 s)${why}`);
  }
  if (options.replay) {
    const [source] = options.archives(lib);
    const code = await runReplay({ gateway, source, replay: options.replay, log });
    for (const cleanup of cleanups) await cleanup();
    log.flush?.();
    process.exit(code);
  }
  const access = apiKeys ? { apiKeys } : {};
  const metrics = prometheus(lib, gateway);
  const { eventsHost, configHost } = options.network;
  const events = await listen(
    logged(log, 'events', lib.createEventsHandler(gateway, access)),
    options.eventsPort,
    eventsHost,
    'events',
    UsageError,
  );
  const configHandler = lib.createConfigHandler(gateway, { ...access, metrics });
  // The page's replay form reads the first archive the gateway writes (a dry run sends nothing).
  const dashboard =
    options.dashboard &&
    lib.createDashboardHandler(gateway, {
      ...access,
      basePath: '/dashboard',
      ...(archives.length > 0 ? { replaySource: archives[0] } : {}),
    });
  const config = await listen(
    logged(log, 'config', (req, res) =>
      dashboard && /^\/dashboard(\/|\?|$)/.test(req.url ?? '')
        ? dashboard(req, res)
        : configHandler(req, res),
    ),
    options.configPort,
    configHost,
    'config',
    UsageError,
  ).catch(async (error) => {
    events.close();
    throw error;
  });
  // The Configuration API's handler and exposure, limited to the connections' paths.
  const connector = await listen(
    logged(
      log,
      'connector',
      lib.createConfigHandler(gateway, { ...access, collections: ['connections'] }),
    ),
    options.connectorPort,
    configHost,
    'connector',
    UsageError,
  ).catch(async (error) => {
    events.close();
    config.close();
    throw error;
  });
  protectOwnEndpoints(gateway, [events, config, connector]);
  warnIfOpen(log, config, { keys: apiKeys !== undefined, ...options.network }, connector);
  log.info(
    {
      events: describeAddress(events.address()),
      config: describeAddress(config.address()),
      connector: describeAddress(connector.address()),
      eventsPort: events.address().port,
      configPort: config.address().port,
      connectorPort: connector.address().port,
      connections: options.runConnections,
      store: store.name,
      privateFunctions: options.network.privateFunctions,
    },
    'event gateway started',
  );
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'draining accepted deliveries; new events get 503');
    // The servers stay up while deliveries drain: new events are answered 503, not refused.
    const { undelivered } = await gateway.close();
    for (const letter of undelivered) {
      log.error(
        { space: letter.space, functionId: letter.functionId, eventId: letter.event?.id },
        'undelivered at shutdown',
      );
    }
    if (dashboard) dashboard.dashboard.close();
    const servers = [events, config, connector];
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((r) => server.close(r))));
    for (const cleanup of cleanups) await cleanup();
    log.info({ undelivered: undelivered.length }, 'stopped');
    log.flush?.();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** `GET /v1/metrics` through prom-client when it is installed (an optional peer dependency). */
function prometheus(lib, gateway) {
  let client;
  try {
    client = require('prom-client');
  } catch {
    return undefined;
  }
  const registry = new client.Registry();
  lib.registerPrometheusMetrics(gateway, { registry });
  return () => registry.metrics();
}

main(process.argv.slice(2)).catch((error) => {
  const message = error instanceof UsageError ? error.message : (error?.message ?? String(error));
  process.stderr.write(`event-gateway: ${message.split('\n')[0]}\n`);
  process.exit(2);
});
