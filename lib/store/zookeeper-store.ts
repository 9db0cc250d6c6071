import { inspect } from 'node:util';
import { MAX_TIMER_MS, optionsArgument } from '../model/checks';
import { ValidationError } from '../errors';
import { positiveOption } from '../model/checks';
import { LogBackedStore, type LogStoreOptions } from './log-backed-store';
import { ZooKeeperBackend } from './zookeeper-backend';

/** One `host:port` of a connection string (a port from 1 to 65535). */
const SERVER =
  /^[A-Za-z0-9.-]+:([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/;

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
  /**
   * Digest credentials, `'user:password'`, sent on every session (ZooKeeper's `addauth digest`).
   * Every gateway sharing the store uses the same ones. Keep them out of source and command lines
   * (read them from a file or the environment).
   * @default none (an unauthenticated session)
   * @example
   * ```ts
   * new ZooKeeperStore({ servers, auth: readFileSync('/run/secrets/zk-auth', 'utf8').trim() });
   * ```
   */
  auth?: string;
  /**
   * Who may read and change the znodes the store creates: `'creator'` gives every permission to
   * the `auth` identity alone (ZooKeeper's `auth` scheme), so other clients can neither read the
   * configuration nor write functions into it; `'open'` lets anyone (`world:anyone`). Znodes
   * that already exist keep their ACLs: a store first created open stays open until its znodes'
   * ACLs are set by hand (`setAcl -R`).
   * @default 'creator' with `auth`, 'open' without
   */
  acl?: 'creator' | 'open';
}

/**
 * A store on ZooKeeper 3.8+ (through node-zookeeper-client, an optional peer dependency loaded
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
    // node-zookeeper-client throws inside its socket code (an uncaught exception in the host) on
    // a port that is not a number: every entry is checked here.
    const entries = typeof options.servers === 'string' ? options.servers.split(',') : [];
    if (entries.length === 0 || !entries.every((entry) => SERVER.test(entry.trim()))) {
      throw new ValidationError(
        `ZooKeeperStore: servers must be host:port entries separated by commas, such as '10.0.0.1:2181,10.0.0.2:2181', got ${JSON.stringify(options.servers)} (the store's znode goes in "path", not after the servers).`,
      );
    }
    const path = options.path ?? '/event-gateway';
    if (!/^(\/[^/]+)+$/.test(path)) {
      throw new ValidationError(
        `ZooKeeperStore: path must be a znode path such as '/event-gateway', got "${path}".`,
      );
    }
    const auth = options.auth;
    // ZooKeeper's digest is `user:password`; the user part cannot hold a colon.
    if (auth !== undefined && (typeof auth !== 'string' || !/^[^:]+:./s.test(auth))) {
      throw new ValidationError(
        'ZooKeeperStore: auth must be digest credentials, "user:password".',
      );
    }
    const acl = options.acl ?? (auth === undefined ? 'open' : 'creator');
    if (acl !== 'creator' && acl !== 'open') {
      throw new ValidationError(`ZooKeeperStore: acl must be 'creator' or 'open'.`);
    }
    if (acl === 'creator' && auth === undefined) {
      throw new ValidationError(
        `ZooKeeperStore: acl 'creator' needs auth (the identity that owns the znodes).`,
      );
    }
    super(
      () =>
        new ZooKeeperBackend({
          servers: options.servers,
          path,
          auth,
          acl,
          sessionTimeout: positiveOption(
            options.sessionTimeout ?? 10_000,
            'sessionTimeout',
            MAX_TIMER_MS,
          ),
          maxRequestBytes: positiveOption(options.maxRequestBytes ?? 1_000_000, 'maxRequestBytes'),
        }),
      options,
    );
    this.servers = options.servers;
  }

  /** The servers' client endpoints: the gateway never delivers a function there. */
  endpoints(): readonly string[] {
    return this.servers.split(',');
  }

  /** What the REPL prints. */
  [inspect.custom](): string {
    return `ZooKeeperStore { servers: ${this.servers} }`;
  }
}
