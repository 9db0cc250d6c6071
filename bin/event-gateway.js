#!/usr/bin/env node
// The `event-gateway` command: Event Gateway 0.9's server as a thin layer over the library. The
// Events API and the Configuration API on two ports, the configuration in memory (--dev) or in
// etcd. Usage errors, a port in use or an unreachable etcd are one line and exit code 2.
const { parseArgs } = require('node:util');
const { readFileSync } = require('node:fs');
const { createServer } = require('node:http');
const { join } = require('node:path');
const { ARCHIVE_USAGE, ARCHIVE_OPTIONS, parseArchiveFlags, runReplay } = require('./archives');

const USAGE = `Usage: event-gateway [options]

  --dev                     keep the configuration in memory (one process, nothing to install)
  --db-hosts h:p,...        etcd client endpoints (default 127.0.0.1:2379)
  --embed-etcd              start a local etcd for this process (needs the etcd binary)
  --zookeeper h:p,...       keep the configuration in ZooKeeper instead (its connection string)
  --consul url              keep the configuration in Consul instead (an agent's HTTP address)
  --events-port N           Events API port (default 4000)
  --config-port N           Configuration API port (default 4001)
  --workers N               deliveries in flight at once (default 100)
  --workers-backlog N       deliveries waiting beyond those (default 200)
  --drain-timeout MS        on SIGTERM/SIGINT, how long accepted deliveries may drain (default 10000)
  --api-keys-file FILE      JSON list of API keys: [{ "hash", "spaces", "scopes", "name" }]
  --log-level LEVEL         trace, debug, info, warn, error or fatal (default info)
  --log-format json|text    (default json)
  -h, --help                this text
  -v, --version             the version

${ARCHIVE_USAGE}

Event Gateway 0.9's single-dash spellings (-dev, -config-port 4001, ...) work too.`;

const OPTIONS = {
  dev: { type: 'boolean' },
  'db-hosts': { type: 'string' },
  'embed-etcd': { type: 'boolean' },
  zookeeper: { type: 'string' },
  consul: { type: 'string' },
  'events-port': { type: 'string' },
  'config-port': { type: 'string' },
  workers: { type: 'string' },
  'workers-backlog': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'api-keys-file': { type: 'string' },
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

function parse(argv) {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: normalize(argv),
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
  const stores = ['dev', 'embed-etcd'].filter((name) => values[name]);
  for (const name of ['db-hosts', 'zookeeper', 'consul'])
    if (values[name] !== undefined) stores.push(name);
  if (stores.length > 1) throw new UsageError(`choose one of --${stores.join(', --')}.`);
  const format = values['log-format'] ?? 'json';
  if (format !== 'json' && format !== 'text') {
    throw new UsageError(`--log-format must be json or text, got "${format}".`);
  }
  const level = values['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) {
    throw new UsageError(`--log-level must be trace, debug, info, warn, error or fatal.`);
  }
  return {
    help: values.help === true,
    version: values.version === true,
    store: values.dev
      ? 'memory'
      : values['embed-etcd']
        ? 'embedded-etcd'
        : values.zookeeper !== undefined
          ? 'zookeeper'
          : values.consul !== undefined
            ? 'consul'
            : 'etcd',
    zookeeper: values.zookeeper,
    consul: values.consul,
    dbHosts: (values['db-hosts'] ?? '127.0.0.1:2379').split(',').filter(Boolean),
    eventsPort: integer(values, 'events-port', 4000, 0, 65535),
    configPort: integer(values, 'config-port', 4001, 0, 65535),
    workers: integer(values, 'workers', 100, 1, 100_000),
    backlog: integer(values, 'workers-backlog', 200, 0, 10_000_000),
    drainTimeout: integer(values, 'drain-timeout', 10_000, 0, 3_600_000),
    apiKeysFile: values['api-keys-file'],
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
  if (format === 'json')
    return pino({ level, base: undefined }, replay ? pino.destination(2) : undefined);
  const names = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  const text = {
    write(line) {
      const { time, level: n, msg, ...rest } = JSON.parse(line);
      const fields = Object.entries(rest).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      out.write(`${new Date(time).toISOString()} ${names[n]} ${msg} ${fields.join(' ')}\n`);
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

function listen(handler, port, name) {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', (error) =>
      reject(
        new UsageError(
          error.code === 'EADDRINUSE'
            ? `the ${name} port ${port} is in use.`
            : `cannot listen on the ${name} port ${port}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, () => resolve(server));
  });
}

async function openStore(options, lib, cleanups) {
  if (options.store === 'memory') return new lib.MemoryStore();
  if (options.store === 'zookeeper') return new lib.ZooKeeperStore({ servers: options.zookeeper });
  if (options.store === 'consul') return new lib.ConsulStore({ url: options.consul });
  let hosts = options.dbHosts.map((h) => (/^https?:\/\//.test(h) ? h : `http://${h}`));
  if (options.store === 'embedded-etcd') {
    let etcd;
    try {
      etcd = await lib.startEtcd();
    } catch (error) {
      throw new UsageError(`cannot start etcd (--embed-etcd): ${error.message.split('\n')[0]}`);
    }
    cleanups.push(() => etcd.stop());
    hosts = etcd.endpoints;
  }
  return new lib.EtcdStore({ hosts });
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
  const store = await openStore(options, lib, cleanups);
  // A replay's events are not archived again: its gateway needs no archive.
  const archives = options.replay ? [] : options.archives(lib);
  const gateway = lib.createGateway(store, {
    plugins: archives,
    concurrency: options.workers,
    queueSize: options.backlog,
    drainTimeout: options.drainTimeout,
    onDeadLetter: (letter) =>
      log.error(
        {
          space: letter.space,
          functionId: letter.functionId,
          eventId: letter.event?.id,
          reason: letter.reason,
        },
        'delivery failed for good',
      ),
  });
  gateway.on('function.invocationFailed', (failure) =>
    log.warn(
      {
        space: failure.space,
        functionId: failure.functionId,
        eventId: failure.event.id,
        attempts: failure.attempts,
        error: failure.error.message,
      },
      'delivery attempt failed',
    ),
  );
  gateway.on('gateway.error', (error) => log.error({ error: error.message }, 'gateway error'));
  gateway.on('store.error', (error) => log.warn({ error: error.message }, 'store error'));
  // Not unref'd: while the store is unreachable, this timer is what keeps the process waiting.
  let timer;
  const ready = await Promise.race([
    gateway.ready().then(() => true),
    new Promise((resolve) => (timer = setTimeout(resolve, 10_000, false))),
  ]);
  clearTimeout(timer);
  if (!ready) {
    await gateway.close();
    const where =
      options.store === 'zookeeper'
        ? `ZooKeeper at ${options.zookeeper}`
        : options.store === 'consul'
          ? `Consul at ${options.consul}`
          : `etcd at ${options.dbHosts.join(', ')}`;
    throw new UsageError(`cannot reach ${where} (10 s).`);
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
  const events = await listen(
    logged(log, 'events', lib.createEventsHandler(gateway, access)),
    options.eventsPort,
    'events',
  );
  const config = await listen(
    logged(log, 'config', lib.createConfigHandler(gateway, { ...access, metrics })),
    options.configPort,
    'config',
  ).catch(async (error) => {
    events.close();
    throw error;
  });
  log.info(
    { eventsPort: events.address().port, configPort: config.address().port, store: store.name },
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
    events.closeAllConnections();
    config.closeAllConnections();
    await Promise.all([new Promise((r) => events.close(r)), new Promise((r) => config.close(r))]);
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
