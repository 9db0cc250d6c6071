import { optionsArgument } from '../model/checks';
import type { ChildProcess } from 'node:child_process';
import { ValidationError } from '../errors';

import { freePort, freePorts, spawnDevServer, temporaryDirectory } from './dev-server';

// Loaded on first use: a gateway that never starts etcd should not pay for this module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const http = () => require('node:http') as typeof import('node:http');

/** Options of {@link startEtcd}. */
export interface StartEtcdOptions {
  /**
   * The etcd binary.
   * @default 'etcd' (found on PATH)
   */
  binary?: string;
  /** The member's name. @default 'eg-dev' */
  name?: string;
  /** The data directory; kept on stop when given. @default a new temporary directory, removed on stop */
  dataDir?: string;
  /** The client port on 127.0.0.1. @default a free port */
  clientPort?: number;
  /** The peer port on 127.0.0.1. @default a free port */
  peerPort?: number;
  /** For a member of a cluster: `name=http://127.0.0.1:port,...` of every member. @default this member alone */
  initialCluster?: string;
  /** `new` for a new cluster, `existing` to join one. @default 'new' */
  initialClusterState?: 'new' | 'existing';
  /** The cluster token. @default 'event-gateway-dev' */
  initialClusterToken?: string;
  /** Interval of watch progress notifications (etcd's default is ten minutes). @default '2s' */
  progressNotifyInterval?: string;
  /**
   * Serve clients over TLS (`https://` endpoints): etcd's certificate and key (valid for
   * 127.0.0.1), and, for mutual TLS, the CA that signs client certificates (etcd then refuses a
   * client without one), all PEM files. Readiness is then checked on a plain-HTTP metrics port.
   * @default none (plain HTTP)
   * @example
   * ```ts
   * const etcd = await startEtcd({
   *   tls: { certFile: 'server.pem', keyFile: 'server-key.pem', clientCaFile: 'ca.pem' },
   * });
   * ```
   */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** More etcd flags. */
  args?: string[];
  /** How long to wait for etcd to answer, in ms. @default 20000 */
  startTimeout?: number;
}

/** A running etcd started by {@link startEtcd}. */
export interface RunningEtcd {
  /** The client URLs (`https://` with `tls`), to pass as `new EtcdStore({ hosts: etcd.endpoints })`. */
  readonly endpoints: string[];
  readonly clientPort: number;
  readonly peerPort: number;
  readonly name: string;
  readonly dataDir: string;
  /** The etcd process. */
  readonly process: ChildProcess;
  /** Stops etcd (SIGTERM, then SIGKILL) and removes its data unless a `dataDir` was given. Idempotent. */
  stop(options?: { kill?: boolean }): Promise<void>;
}

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http().request(`${url}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('true')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Starts a throwaway etcd on free loopback ports with a temporary data directory, for trials and
 * tests (what Event Gateway's `-dev` flag did with its embedded etcd). Needs the `etcd` binary
 * (Debian and Ubuntu: `apt-get install etcd-server`).
 * @example
 * ```ts
 * const etcd = await startEtcd();
 * const gateway = createGateway(new EtcdStore({ hosts: etcd.endpoints }));
 * // ...
 * await gateway.close();
 * await etcd.stop();
 * ```
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<RunningEtcd> {
  optionsArgument(options, 'startEtcd(options)');
  const name = options.name ?? 'eg-dev';
  const clientPort = options.clientPort ?? (await freePort());
  const peerPort = options.peerPort ?? (await freePorts(1, [clientPort]))[0];
  if (clientPort === 2379 || clientPort === 2380 || peerPort === 2379 || peerPort === 2380) {
    throw new ValidationError(
      'startEtcd: ports 2379 and 2380 belong to a system etcd; choose others.',
    );
  }
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await temporaryDirectory('etcd'));
  const tls = options.tls;
  const clientUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  // With TLS (mutual, perhaps) the client port needs certificates; metrics and health do not.
  const healthUrl = tls
    ? `http://127.0.0.1:${(await freePorts(1, [clientPort, peerPort]))[0]}`
    : clientUrl;
  const args = [
    '--name',
    name,
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    clientUrl,
    '--advertise-client-urls',
    clientUrl,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    options.initialCluster ?? `${name}=${peerUrl}`,
    '--initial-cluster-state',
    options.initialClusterState ?? 'new',
    '--initial-cluster-token',
    options.initialClusterToken ?? 'event-gateway-dev',
    '--unsafe-no-fsync',
    `--experimental-watch-progress-notify-interval=${options.progressNotifyInterval ?? '2s'}`,
    '--log-level',
    'error',
    ...(tls
      ? [
          '--cert-file',
          tls.certFile,
          '--key-file',
          tls.keyFile,
          '--listen-metrics-urls',
          healthUrl,
          ...(tls.clientCaFile
            ? ['--trusted-ca-file', tls.clientCaFile, '--client-cert-auth']
            : []),
        ]
      : []),
    ...(options.args ?? []),
  ];
  const server = await spawnDevServer({
    helper: 'startEtcd',
    binary: options.binary ?? 'etcd',
    program: 'etcd',
    args,
    dataDir,
    ownDir,
    installHint: 'Install etcd (Debian and Ubuntu: apt-get install etcd-server)',
    // A member of a cluster is healthy only once a quorum is up: the caller waits for that.
    ready: async () => options.initialCluster !== undefined || (await healthy(healthUrl)),
    startTimeout: options.startTimeout ?? 20_000,
  });
  return {
    endpoints: [clientUrl],
    clientPort,
    peerPort,
    name,
    dataDir,
    process: server.process,
    stop: server.stop,
  };
}

export { freePort };
