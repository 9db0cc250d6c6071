import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConsulStore,
  EtcdStore,
  freePort,
  startConsul,
  startEtcd,
  startZooKeeper,
  ZooKeeperStore,
  type Store,
} from '../../lib';
import { CONSUL_BINARY } from './servers';

/** The stores that run on a server of their own. */
export type StoreKind = 'etcd' | 'zookeeper' | 'consul';

/** A store the fault tests can also compact. */
export type ServerStore = Store & { compact(revision: number): Promise<void> };

/** What the fault tests tune on a store. */
export interface ConnectOptions {
  requestTimeout?: number;
  watchCheckInterval?: number;
}

/** One server of a kind, on a data directory of its own, that a test can stop and restart. */
export interface StoreServer {
  readonly kind: StoreKind;
  /** The client port. */
  readonly port: number;
  /** A new store talking to `port` (a proxy's, or the server's own). */
  connect(options?: ConnectOptions & { port?: number }): ServerStore;
  /** How a child process reaches it: `STORE_KIND` and `STORE_ADDRESS`. */
  env(port?: number): Record<string, string>;
  /** Stops the server (its data stays). */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would (its data stays; `restart` starts it). */
  kill(): Promise<void>;
  /** Starts it again on the same port, with its data or empty. */
  restart(options: { keepData: boolean }): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

/** The address a store of a kind takes, for a server on `port`. */
export function addressOf(kind: StoreKind, port: number): string {
  return kind === 'zookeeper' ? `127.0.0.1:${port}` : `http://127.0.0.1:${port}`;
}

/** A store of a kind at an address (see {@link addressOf}); etcd takes comma-separated URLs. */
export function storeAt(
  kind: StoreKind,
  address: string,
  options: ConnectOptions = {},
): ServerStore {
  if (kind === 'etcd') return new EtcdStore({ hosts: address.split(','), ...options });
  if (kind === 'zookeeper') {
    return new ZooKeeperStore({ servers: address, sessionTimeout: 4000, ...options });
  }
  return new ConsulStore({ url: address, ...options });
}

export async function startStoreServer(kind: StoreKind): Promise<StoreServer> {
  const dataDir = await mkdtemp(join(tmpdir(), `eg-${kind}-faults-`));
  const port = await freePort();
  const peerPort = await freePort();
  let running: { stop(options?: { kill?: boolean }): Promise<void> } | undefined;
  const start = async () => {
    running =
      kind === 'etcd'
        ? await startEtcd({ name: 'faults', dataDir, clientPort: port, peerPort })
        : kind === 'zookeeper'
          ? await startZooKeeper({ dataDir, clientPort: port })
          : await startConsul({ binary: CONSUL_BINARY, dataDir, httpPort: port });
  };
  await start();
  const server: StoreServer = {
    kind,
    port,
    connect: ({ port: via = port, ...options } = {}) =>
      storeAt(kind, addressOf(kind, via), options),
    env: (via = port) => ({ STORE_KIND: kind, STORE_ADDRESS: addressOf(kind, via) }),
    stop: async () => {
      await running?.stop();
      running = undefined;
    },
    kill: async () => {
      await running?.stop({ kill: true });
      running = undefined;
    },
    restart: async ({ keepData }) => {
      await server.stop();
      if (!keepData) {
        await rm(dataDir, { recursive: true, force: true });
      }
      await start();
    },
    dispose: async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
