import { optionsArgument } from '../model/checks';
import type { ChildProcess } from 'node:child_process';
import { ValidationError } from '../errors';
import { freePort, freePorts, spawnDevServer, temporaryDirectory } from './dev-server';

// Loaded on first use: a gateway that never starts Consul should not pay for these modules.
/* eslint-disable @typescript-eslint/no-require-imports */
const fs = () => require('node:fs/promises') as typeof import('node:fs/promises');
const http = () => require('node:http') as typeof import('node:http');
const path = () => require('node:path') as typeof import('node:path');
/* eslint-enable @typescript-eslint/no-require-imports */

/** Options of {@link startConsul}. */
export interface StartConsulOptions {
  /** The Consul binary. @default 'consul' (found on PATH) */
  binary?: string;
  /**
   * A data directory, kept on stop: the agent then runs as a one-server cluster that keeps its data
   * across restarts (it elects itself in about 2 s). Without one it runs in `-dev` mode: in
   * memory, ready in about 0.3 s, everything lost on stop.
   * @default none (`-dev` mode)
   */
  dataDir?: string;
  /** The HTTP port on 127.0.0.1. @default a free port */
  httpPort?: number;
  /** The node name. @default 'eg-dev' */
  node?: string;
  /** More agent flags. */
  args?: string[];
  /** How long to wait for a leader, in ms. @default 20000 */
  startTimeout?: number;
}

/** A running Consul agent started by {@link startConsul}. */
export interface RunningConsul {
  /** The HTTP address, `http://127.0.0.1:port`, for `new ConsulStore({ url })`. */
  readonly url: string;
  readonly httpPort: number;
  /** The data directory ('' in `-dev` mode). */
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Stops Consul (SIGTERM, then SIGKILL). Idempotent. */
  stop(options?: { kill?: boolean }): Promise<void>;
}

function hasLeader(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http().get(`${url}/v1/status/leader`, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.length > 2));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Starts a throwaway Consul agent (a server with a leader) on free loopback ports, for trials and
 * tests. Needs the `consul` binary (HashiCorp's releases, or Debian bullseye's `consul` package).
 * @example
 * ```ts
 * const consul = await startConsul();
 * const gateway = createGateway(new ConsulStore({ url: consul.url }));
 * // ...
 * await gateway.close();
 * await consul.stop();
 * ```
 */
export async function startConsul(options: StartConsulOptions = {}): Promise<RunningConsul> {
  optionsArgument(options, 'startConsul(options)');
  const httpPort = options.httpPort ?? (await freePort());
  if (httpPort === 8500) {
    throw new ValidationError('startConsul: port 8500 belongs to a system Consul; choose another.');
  }
  const [serverPort, lanPort, wanPort] = await freePorts(3, [httpPort]);
  const url = `http://127.0.0.1:${httpPort}`;
  const persistent = options.dataDir !== undefined;
  // Consul reads its configuration from files only; a temporary one holds the faster raft timing.
  const configDir = await temporaryDirectory('consul');
  await fs().writeFile(
    path().join(configDir, 'dev.json'),
    JSON.stringify({ performance: { raft_multiplier: 1 }, disable_update_check: true }),
  );
  if (options.dataDir) await fs().mkdir(options.dataDir, { recursive: true });
  const args = [
    'agent',
    ...(persistent
      ? ['-server', '-bootstrap-expect', '1', '-data-dir', options.dataDir!]
      : ['-dev']),
    '-config-dir',
    configDir,
    '-node',
    options.node ?? 'eg-dev',
    '-bind',
    '127.0.0.1',
    '-client',
    '127.0.0.1',
    '-http-port',
    String(httpPort),
    '-dns-port',
    '-1',
    '-grpc-port',
    '-1',
    '-server-port',
    String(serverPort),
    '-serf-lan-port',
    String(lanPort),
    '-serf-wan-port',
    String(wanPort),
    '-log-level',
    'warn',
    ...(options.args ?? []),
  ];
  const server = await spawnDevServer({
    helper: 'startConsul',
    binary: options.binary ?? 'consul',
    program: 'consul',
    args,
    dataDir: configDir,
    ownDir: true,
    installHint: "Install Consul (HashiCorp's releases, or Debian bullseye's consul package)",
    ready: () => hasLeader(url),
    startTimeout: options.startTimeout ?? 20_000,
  });
  return {
    url,
    httpPort,
    dataDir: options.dataDir ?? '',
    process: server.process,
    stop: server.stop,
  };
}
