// The command's network exposure: the addresses its two APIs listen on (loopback unless API keys
// guard them), a warning when the Configuration API is open to others, and where functions may be
// reached (not at loopback or private addresses unless asked: a registered function is a request
// the gateway makes from inside the network).
const { createServer } = require('node:http');
const { BlockList, isIP } = require('node:net');

const NETWORK_USAGE = `Network:
  --host ADDR               the address both APIs listen on (default 127.0.0.1 without
                            --api-keys-file: anyone who reaches an API without keys may use it;
                            with keys, every interface)
  --config-host ADDR        the Configuration API's own address (default --host)
  --allow-private-functions functions may be at loopback and private addresses (10/8,
                            172.16/12, 192.168/16, fc00::/7, ...; never link-local or cloud
                            metadata); --dev allows them too`;

const NETWORK_OPTIONS = {
  host: { type: 'string' },
  'config-host': { type: 'string' },
  'allow-private-functions': { type: 'boolean' },
};

/** The network flags, checked: each API's address, and whether functions may be private. */
function parseNetworkFlags(values, { keys, dev }, UsageError) {
  for (const name of ['host', 'config-host']) {
    if (values[name] === '') throw new UsageError(`--${name} needs an address.`);
  }
  // Without keys an API serves whoever reaches it: loopback unless asked. With keys, 0.9's
  // every interface (Node's default: '::', or 0.0.0.0 without IPv6).
  const host = values.host ?? (keys ? undefined : '127.0.0.1');
  return {
    eventsHost: host,
    configHost: values['config-host'] ?? host,
    privateFunctions: dev || values['allow-private-functions'] === true,
  };
}

/**
 * createGateway's outbound options: functions at loopback, private and link-local addresses
 * refused unless `privateFunctions` (link-local and metadata stay refused even then), for the
 * host's own configuration and for what API keys write alike.
 */
function outboundOptions({ privateFunctions }) {
  const policy = { allowLoopback: privateFunctions, allowPrivate: privateFunctions };
  return { outbound: policy, tenantOutbound: policy };
}

function listen(handler, port, host, name, UsageError) {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', (error) =>
      reject(
        new UsageError(
          error.code === 'EADDRINUSE'
            ? `the ${name} port ${port} is in use.`
            : `cannot listen on the ${name} port ${port}${host ? ` of ${host}` : ''}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve(server));
  });
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether a server's bound address is reachable from this machine only. */
function isLoopback(address) {
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** `127.0.0.1:4001` or `[::]:4001`. */
function describeAddress({ address, port }) {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * One WARN line when the Configuration API (and the connections API on its own port, at the same
 * address), without keys, listens beyond loopback: whoever reaches it can register functions
 * (requests the gateway makes for them) and read every space.
 */
function warnIfOpen(log, config, { keys, privateFunctions }, connector) {
  if (keys || isLoopback(config.address().address)) return;
  const where = describeAddress(config.address());
  // The connector port listens where the Configuration API does, and is as open.
  const also = connector
    ? ` (and its connections API at ${describeAddress(connector.address())})`
    : '';
  log.warn(
    { config: where },
    `WARNING: the Configuration API at ${where}${also} has no API keys: anyone who can reach it can ` +
      `register functions and read and change every space` +
      (privateFunctions ? ", including functions at this network's private addresses" : '') +
      '. Give --api-keys-file, or keep it on loopback (--config-host 127.0.0.1).',
  );
}

/**
 * The gateway never delivers to its own APIs, from the first request on (a function registered
 * at them would loop, or write configuration with the gateway's own standing).
 */
function protectOwnEndpoints(gateway, servers) {
  for (const server of servers) gateway.protectEndpoint(server.address());
}

module.exports = {
  NETWORK_USAGE,
  NETWORK_OPTIONS,
  parseNetworkFlags,
  outboundOptions,
  listen,
  describeAddress,
  warnIfOpen,
  protectOwnEndpoints,
};
