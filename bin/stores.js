// The command's store flags: where the configuration is kept and how that store is reached (etcd
// TLS and user/password, a Consul ACL token, ZooKeeper digest auth). Secrets come from files or the
// environment, never from the command line, which every user of the machine sees in `ps`.
const { readFileSync } = require('node:fs');

const STORE_USAGE = `Store (where the configuration is kept; one of):
  --dev                     in memory (one process, nothing to install; a trial: functions may be
                            at loopback and private addresses)
  --db-hosts h:p,...        etcd client endpoints (default 127.0.0.1:2379)
  --embed-etcd              start a local etcd for this process (needs the etcd binary)
  --zookeeper h:p,...       ZooKeeper (its connection string)
  --consul url              Consul (an agent's HTTP address)

Store credentials (secrets from files or the environment, never the command line):
  --etcd-ca-file FILE       the CA of etcd's TLS certificate (hosts without a scheme get https://)
  --etcd-cert-file FILE     a client certificate, for etcd's --client-cert-auth (with --etcd-key-file)
  --etcd-key-file FILE      its private key
  --etcd-username NAME      an etcd user; its password in EVENT_GATEWAY_ETCD_PASSWORD, or in:
  --etcd-password-file FILE
  --consul-token-file FILE  a Consul ACL token (write on the event-gateway/ prefix); or
                            CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE
  --zookeeper-auth-file FILE  ZooKeeper digest credentials, user:password; or
                            EVENT_GATEWAY_ZOOKEEPER_AUTH (the znodes it creates are then readable
                            and writable with these credentials only)`;

const STORE_OPTIONS = {
  dev: { type: 'boolean' },
  'db-hosts': { type: 'string' },
  'embed-etcd': { type: 'boolean' },
  zookeeper: { type: 'string' },
  consul: { type: 'string' },
  'etcd-ca-file': { type: 'string' },
  'etcd-cert-file': { type: 'string' },
  'etcd-key-file': { type: 'string' },
  'etcd-username': { type: 'string' },
  'etcd-password-file': { type: 'string' },
  'consul-token-file': { type: 'string' },
  'zookeeper-auth-file': { type: 'string' },
};

/** Where a secret flag's value goes instead (an unknown secret flag gets the general advice). */
const SECRET_HOMES = {
  'etcd-password': '--etcd-password-file FILE or EVENT_GATEWAY_ETCD_PASSWORD',
  'consul-token': '--consul-token-file FILE or CONSUL_HTTP_TOKEN',
  'zookeeper-auth': '--zookeeper-auth-file FILE or EVENT_GATEWAY_ZOOKEEPER_AUTH',
};

/**
 * Refuses a flag that would carry a secret (`--etcd-password x`, `--consul-token=x`): by the time
 * it is refused it has been in `ps`, so the message says where the secret goes instead.
 */
function refuseSecretFlags(tokens, UsageError) {
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name in STORE_OPTIONS) continue;
    if (!/(password|passwd|token|secret|auth)$/.test(token.name)) continue;
    const home = SECRET_HOMES[token.name] ?? 'a file or an environment variable';
    throw new UsageError(
      `--${token.name} would show a secret to every user of this machine (ps); use ${home}.`,
    );
  }
}

/** A secret's text from the first of a flag's file, an environment variable, or a file it names. */
function secret({ values, flag, env, envFile }, UsageError) {
  const [file, from] =
    values[flag] !== undefined
      ? [values[flag], `--${flag}`]
      : process.env[env]
        ? [undefined, env]
        : envFile && process.env[envFile]
          ? [process.env[envFile], envFile]
          : [undefined, undefined];
  if (from === undefined) return undefined;
  let text = process.env[env];
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${from} ${file}: ${error.message}`);
    }
  }
  // A secret in the environment is passed on to nothing this process starts (an embedded etcd).
  delete process.env[env];
  text = text.replace(/\r?\n$/, '');
  if (text === '') throw new UsageError(`${from} is empty.`);
  return text;
}

function readPem(values, flag, UsageError) {
  if (values[flag] === undefined) return undefined;
  try {
    return readFileSync(values[flag]);
  } catch (error) {
    throw new UsageError(`cannot read --${flag} ${values[flag]}: ${error.message}`);
  }
}

/** etcd's TLS files and user, checked together. */
function etcdAccess(values, UsageError) {
  const [ca, cert, key] = ['etcd-ca-file', 'etcd-cert-file', 'etcd-key-file'].map((flag) =>
    readPem(values, flag, UsageError),
  );
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError('--etcd-cert-file and --etcd-key-file go together.');
  }
  if (cert && !ca) throw new UsageError('--etcd-cert-file needs --etcd-ca-file.');
  const username = values['etcd-username'];
  const password = secret(
    { values, flag: 'etcd-password-file', env: 'EVENT_GATEWAY_ETCD_PASSWORD' },
    UsageError,
  );
  if ((username === undefined) !== (password === undefined)) {
    throw new UsageError(
      username === undefined
        ? 'an etcd password needs --etcd-username.'
        : '--etcd-username needs a password: EVENT_GATEWAY_ETCD_PASSWORD or --etcd-password-file.',
    );
  }
  return {
    tls: ca && { rootCertificate: ca, certChain: cert, privateKey: key },
    auth: username === undefined ? undefined : { username, password },
  };
}

const FLAGS_OF = {
  etcd: ['etcd-ca-file', 'etcd-cert-file', 'etcd-key-file', 'etcd-username', 'etcd-password-file'],
  consul: ['consul-token-file'],
  zookeeper: ['zookeeper-auth-file'],
};

const NAMES = {
  etcd: 'etcd',
  consul: 'Consul',
  zookeeper: 'ZooKeeper',
  memory: 'in memory (--dev)',
  'embedded-etcd': 'the embedded etcd',
};

/** The store flags, checked: which store, its address and its credentials. */
function parseStoreFlags(values, UsageError) {
  const chosen = ['dev', 'embed-etcd'].filter((name) => values[name]);
  for (const name of ['db-hosts', 'zookeeper', 'consul'])
    if (values[name] !== undefined) chosen.push(name);
  if (chosen.length > 1) throw new UsageError(`choose one of --${chosen.join(', --')}.`);
  const store = values.dev
    ? 'memory'
    : values['embed-etcd']
      ? 'embedded-etcd'
      : values.zookeeper !== undefined
        ? 'zookeeper'
        : values.consul !== undefined
          ? 'consul'
          : 'etcd';
  for (const [kind, flags] of Object.entries(FLAGS_OF)) {
    const stray = flags.find((flag) => values[flag] !== undefined);
    if (stray && kind !== store) {
      throw new UsageError(`--${stray} is for ${NAMES[kind]}; the store here is ${NAMES[store]}.`);
    }
  }
  const addresses = [values['db-hosts'], values.consul].filter((a) => a !== undefined);
  if (addresses.some((address) => /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(address))) {
    throw new UsageError(
      'credentials in a store address would show to every user of this machine (ps); use the store credential flags.',
    );
  }
  const config = { store, zookeeper: values.zookeeper, consul: values.consul };
  if (store === 'etcd') {
    const access = etcdAccess(values, UsageError);
    const scheme = access.tls ? 'https' : 'http';
    const hosts = (values['db-hosts'] ?? '127.0.0.1:2379').split(',').filter(Boolean);
    if (access.tls && hosts.some((host) => host.startsWith('http://'))) {
      throw new UsageError('--etcd-ca-file speaks TLS to every host: write https:// hosts.');
    }
    Object.assign(config, access, {
      named: hosts,
      dbHosts: hosts.map((host) => (/^https?:\/\//.test(host) ? host : `${scheme}://${host}`)),
    });
  }
  if (store === 'consul') {
    config.token = secret(
      {
        values,
        flag: 'consul-token-file',
        env: 'CONSUL_HTTP_TOKEN',
        envFile: 'CONSUL_HTTP_TOKEN_FILE',
      },
      UsageError,
    );
  }
  if (store === 'zookeeper') {
    config.auth = secret(
      { values, flag: 'zookeeper-auth-file', env: 'EVENT_GATEWAY_ZOOKEEPER_AUTH' },
      UsageError,
    );
    if (config.auth !== undefined && !/^[^:]+:./s.test(config.auth)) {
      throw new UsageError('ZooKeeper digest credentials must be user:password.');
    }
  }
  return config;
}

/**
 * grpc-js gives an etcd host's IP address as the TLS server name, which Node flags once per
 * process (DEP0123, on stderr): nothing a user of the command can change, so not shown.
 */
function quietIpServerNameWarning() {
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    const code = typeof rest[0] === 'object' ? rest[0]?.code : rest[1];
    if (code !== 'DEP0123') emitWarning.call(process, warning, ...rest);
  };
}

/** The store the flags name; an embedded etcd is started and its stop added to `cleanups`. */
async function openStore(config, lib, cleanups, UsageError) {
  if (config.store === 'memory') return new lib.MemoryStore();
  if (config.store === 'zookeeper') {
    return new lib.ZooKeeperStore({ servers: config.zookeeper, auth: config.auth });
  }
  if (config.store === 'consul')
    return new lib.ConsulStore({ url: config.consul, token: config.token });
  if (config.store === 'embedded-etcd') {
    let etcd;
    try {
      etcd = await lib.startEtcd();
    } catch (error) {
      throw new UsageError(`cannot start etcd (--embed-etcd): ${error.message.split('\n')[0]}`);
    }
    cleanups.push(() => etcd.stop());
    return new lib.EtcdStore({ hosts: etcd.endpoints });
  }
  if (config.dbHosts.some((host) => host.startsWith('https://'))) quietIpServerNameWarning();
  return new lib.EtcdStore({ hosts: config.dbHosts, tls: config.tls, auth: config.auth });
}

/** The store, for a message: "etcd at https://10.0.0.1:2379". */
function describeStore(config) {
  if (config.store === 'zookeeper') return `ZooKeeper at ${config.zookeeper}`;
  if (config.store === 'consul') return `Consul at ${config.consul}`;
  return config.store === 'embedded-etcd'
    ? 'the embedded etcd'
    : `etcd at ${config.named.join(', ')}`;
}

module.exports = {
  STORE_USAGE,
  STORE_OPTIONS,
  refuseSecretFlags,
  parseStoreFlags,
  openStore,
  describeStore,
};
