import { inspect } from 'node:util';
import { optionsArgument } from '../model/checks';
import { ValidationError } from '../errors';
import { LogBackedStore, type LogStoreOptions } from './log-backed-store';
import { ZooKeeperBackend } from './zookeeper-backend';

/** Options of {@link ZooKeeperStore}. */
export interface ZooKeeperStoreOptions extends LogStoreOptions {
  /** The ensemble's connection string, e.g. `'10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181'`. */
  servers: string;
  /**
   * The znode under which the store keeps its keys, head and change log. Gateways that share
   * configuration use the same path.
   * @default '/event-gateway'
   */
  path?: string;
  /**
   * The ZooKeeper session timeout, in ms. ZooKeeper expires a session it has not heard from for
   * this long; the store then opens a new one (its watches end with an error and caches relist).
   * @default 10000
   */
  sessionTimeout?: number;
  /**
   * The largest write, in bytes (keys, values and the change record, which holds each value and
   * what it replaced); larger ones fail with ValidationError. Keep it below the servers'
   * `jute.maxbuffer`, which drop the connection of a larger request.
   * @default 1000000 (ZooKeeper's default jute.maxbuffer is 1048575)
   */
  maxRequestBytes?: number;
}

/**
 * A store on ZooKeeper 3.5+ (through node-zookeeper-client, an optional peer dependency loaded
 * when the first ZooKeeperStore is constructed). Keys are znodes under `path`; revisions are
 * ZooKeeper's zxids; each write is one `multi` that also swaps a head node and appends a change
 * record, so transactions check every compare of the contract against one state, and watches
 * resume from any revision the change log (`historySize` records) still covers.
 *
 * One write's keys, values and change record travel in one request: `maxRequestBytes` (below
 * ZooKeeper's `jute.maxbuffer`, 1 MiB by default) bounds them together.
 * @example
 * ```ts
 * const store = new ZooKeeperStore({ servers: '10.0.0.1:2181,10.0.0.2:2181,10.0.0.3:2181' });
 * const gateway = createGateway(store);
 * ```
 */
export class ZooKeeperStore extends LogBackedStore {
  readonly name = 'ZooKeeperStore';
  private readonly servers: string;

  constructor(options: ZooKeeperStoreOptions) {
    optionsArgument(options, 'new ZooKeeperStore(options)');
    if (typeof options.servers !== 'string' || options.servers.trim() === '') {
      throw new ValidationError(
        "ZooKeeperStore: servers must be a connection string such as '127.0.0.1:2181'.",
      );
    }
    const path = options.path ?? '/event-gateway';
    if (!/^(\/[^/]+)+$/.test(path)) {
      throw new ValidationError(
        `ZooKeeperStore: path must be a znode path such as '/event-gateway', got "${path}".`,
      );
    }
    super(
      new ZooKeeperBackend({
        servers: options.servers,
        path,
        sessionTimeout: options.sessionTimeout ?? 10_000,
        maxRequestBytes: options.maxRequestBytes ?? 1_000_000,
      }),
      options,
    );
    this.servers = options.servers;
  }

  /** What the REPL prints. */
  [inspect.custom](): string {
    return `ZooKeeperStore { servers: ${this.servers} }`;
  }
}
