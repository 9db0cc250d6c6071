import { optionsArgument } from '../model/checks';
import type { ChildProcess } from 'node:child_process';
import { StoreUnavailableError, ValidationError } from '../errors';

// Loaded on first use: a gateway that never starts etcd should not pay for these modules.
/* eslint-disable @typescript-eslint/no-require-imports */
const childProcess = () => require('node:child_process') as typeof import('node:child_process');
const fs = () => require('node:fs/promises') as typeof import('node:fs/promises');
const http = () => require('node:http') as typeof import('node:http');
const net = () => require('node:net') as typeof import('node:net');
const os = () => require('node:os') as typeof import('node:os');
const path = () => require('node:path') as typeof import('node:path');
/* eslint-enable @typescript-eslint/no-require-imports */

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
  /** More etcd flags. */
  args?: string[];
  /** How long to wait for etcd to answer, in ms. @default 20000 */
  startTimeout?: number;
}

/** A running etcd started by {@link startEtcd}. */
export interface RunningEtcd {
  /** The client URLs, to pass as `new EtcdStore({ hosts: etcd.endpoints })`. */
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

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net().createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
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
  const peerPort = options.peerPort ?? (await freePort());
  if (clientPort === 2379 || clientPort === 2380 || peerPort === 2379 || peerPort === 2380) {
    throw new ValidationError(
      'startEtcd: ports 2379 and 2380 belong to a system etcd; choose others.',
    );
  }
  const ownDir = options.dataDir === undefined;
  const dataDir =
    options.dataDir ?? (await fs().mkdtemp(path().join(os().tmpdir(), 'event-gateway-etcd-')));
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
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
    ...(options.args ?? []),
  ];
  const binary = options.binary ?? 'etcd';
  const child = childProcess().spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  let stopped: Promise<void> | undefined;
  const running: RunningEtcd = {
    endpoints: [clientUrl],
    clientPort,
    peerPort,
    name,
    dataDir,
    process: child,
    stop: ({ kill = false } = {}) =>
      (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill(kill ? 'SIGKILL' : 'SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        if (ownDir) await fs().rm(dataDir, { recursive: true, force: true });
      })()),
  };

  const deadline = Date.now() + (options.startTimeout ?? 20_000);
  for (;;) {
    const failure = await Promise.race([
      spawnError,
      exited.then((code) => new Error(`etcd exited with code ${code}: ${stderr.trim()}`)),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
    ]);
    if (failure) {
      await running.stop();
      if ((failure as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StoreUnavailableError(
          `startEtcd: no etcd binary at "${binary}". Install etcd (Debian and Ubuntu: apt-get install etcd-server) or pass { binary }.`,
        );
      }
      throw new StoreUnavailableError(`startEtcd: ${failure.message}`);
    }
    // A member of a cluster is healthy only once a quorum is up: the caller waits for that.
    if (options.initialCluster !== undefined || (await healthy(clientUrl))) return running;
    if (Date.now() > deadline) {
      await running.stop({ kill: true });
      throw new StoreUnavailableError(
        `startEtcd: etcd did not become healthy at ${clientUrl}: ${stderr.trim()}`,
      );
    }
  }
}
