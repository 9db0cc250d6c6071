import { optionsArgument } from '../model/checks';
import type { ChildProcess } from 'node:child_process';
import { ValidationError } from '../errors';
import { freePort, spawnDevServer, temporaryDirectory } from './dev-server';

// Loaded on first use: a gateway that never starts ZooKeeper should not pay for these modules.
/* eslint-disable @typescript-eslint/no-require-imports */
const fs = () => require('node:fs/promises') as typeof import('node:fs/promises');
const net = () => require('node:net') as typeof import('node:net');
const path = () => require('node:path') as typeof import('node:path');
/* eslint-enable @typescript-eslint/no-require-imports */

/** One server of a ZooKeeper ensemble, for {@link StartZooKeeperOptions.ensemble}. */
export interface ZooKeeperMember {
  /** The server's id (`myid`), 1 to 255. */
  readonly id: number;
  readonly clientPort: number;
  /** The quorum port (followers to the leader). */
  readonly peerPort: number;
  /** The leader election port. */
  readonly electionPort: number;
}

/** Options of {@link startZooKeeper}. */
export interface StartZooKeeperOptions {
  /** The Java runtime. @default 'java' (found on PATH) */
  binary?: string;
  /**
   * The class path holding ZooKeeper and its log configuration.
   * @default '/etc/zookeeper/conf:/usr/share/java/zookeeper.jar' (Debian's `zookeeper` package)
   */
  classpath?: string;
  /** The data directory; kept on stop when given. @default a new temporary directory, removed on stop */
  dataDir?: string;
  /** The client port on 127.0.0.1 (ignored for a member of an `ensemble`). @default a free port */
  clientPort?: number;
  /** For a member of an ensemble: every member, and this one's `serverId`. @default a standalone server */
  ensemble?: readonly ZooKeeperMember[];
  /** This server's id in `ensemble`. */
  serverId?: number;
  /** ZooKeeper's tick in ms (session timeouts are 2 to 20 ticks). @default 500 */
  tickTime?: number;
  /** More `zoo.cfg` lines (`key=value`). */
  config?: string[];
  /** How long to wait for the server to answer, in ms. @default 20000 */
  startTimeout?: number;
}

/** A running ZooKeeper started by {@link startZooKeeper}. */
export interface RunningZooKeeper {
  /** The connection string of this server, `127.0.0.1:port`, for `new ZooKeeperStore({ servers })`. */
  readonly servers: string;
  readonly clientPort: number;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Stops ZooKeeper (SIGTERM, then SIGKILL) and removes its data unless a `dataDir` was given. Idempotent. */
  stop(options?: { kill?: boolean }): Promise<void>;
}

/** Sends a four-letter command and resolves with the answer ('' when the server does not answer). */
export function fourLetterWord(port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net().connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.end(command));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => undefined);
  });
}

/**
 * Starts a throwaway ZooKeeper on free loopback ports with a temporary data directory, for trials
 * and tests. Needs Java and ZooKeeper (Debian and Ubuntu: `apt-get install zookeeper`). Pass
 * `ensemble` and `serverId` to start one member of a multi-server ensemble: it returns once the
 * process answers, before a quorum forms.
 * @example
 * ```ts
 * const zk = await startZooKeeper();
 * const gateway = createGateway(new ZooKeeperStore({ servers: zk.servers }));
 * // ...
 * await gateway.close();
 * await zk.stop();
 * ```
 */
export async function startZooKeeper(
  options: StartZooKeeperOptions = {},
): Promise<RunningZooKeeper> {
  optionsArgument(options, 'startZooKeeper(options)');
  const member = options.ensemble?.find((m) => m.id === options.serverId);
  if (options.ensemble && !member) {
    throw new ValidationError('startZooKeeper: serverId must name a member of ensemble.');
  }
  const clientPort = member?.clientPort ?? options.clientPort ?? (await freePort());
  if (clientPort === 2181) {
    throw new ValidationError(
      'startZooKeeper: port 2181 belongs to a system ZooKeeper; choose another.',
    );
  }
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await temporaryDirectory('zookeeper'));
  await fs().mkdir(dataDir, { recursive: true });
  const lines = [
    `tickTime=${options.tickTime ?? 500}`,
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${dataDir}`,
    `clientPort=${clientPort}`,
    'clientPortAddress=127.0.0.1',
    'admin.enableServer=false',
    '4lw.commands.whitelist=ruok,stat,srvr',
    'forceSync=no',
    ...(options.ensemble ?? []).map(
      (m) => `server.${m.id}=127.0.0.1:${m.peerPort}:${m.electionPort}`,
    ),
    ...(options.config ?? []),
  ];
  if (member) await fs().writeFile(path().join(dataDir, 'myid'), `${member.id}\n`);
  const configFile = path().join(dataDir, 'zoo.cfg');
  await fs().writeFile(configFile, lines.join('\n') + '\n');
  const server = await spawnDevServer({
    helper: 'startZooKeeper',
    binary: options.binary ?? 'java',
    program: 'java',
    args: [
      '-Xmx256m',
      '-cp',
      options.classpath ?? '/etc/zookeeper/conf:/usr/share/java/zookeeper.jar',
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      configFile,
    ],
    dataDir,
    ownDir,
    installHint: 'Install ZooKeeper and Java (Debian and Ubuntu: apt-get install zookeeper)',
    // A member of an ensemble serves only once a quorum is up: the caller waits for that.
    ready: async () =>
      member
        ? (await fourLetterWord(clientPort, 'ruok')) === 'imok'
        : (await fourLetterWord(clientPort, 'srvr')).includes('Mode:'),
    startTimeout: options.startTimeout ?? 20_000,
  });
  return {
    servers: `127.0.0.1:${clientPort}`,
    clientPort,
    dataDir,
    process: server.process,
    stop: server.stop,
  };
}
