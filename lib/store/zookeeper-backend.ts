import { StoreUnavailableError, ValidationError } from '../errors';
import type {
  CommitPlan,
  HeadChange,
  LogBackend,
  LogHead,
  LogRecord,
  StoredKey,
} from './log-backend';
import { requireOptionalPeer } from '../model/optional-peer';
import { parseRecordBody } from './log-backend';
import { decodeKey, encodeKey } from './key-encoding';

/** The parts of node-zookeeper-client the backend uses (structural: it is an optional peer). */
interface ZkStat {
  readonly czxid: Buffer;
  readonly mzxid: Buffer;
  readonly version: number;
}
interface ZkError extends Error {
  getCode(): number;
}
type Callback<T> = (error: ZkError | null, result: T, stat: ZkStat) => void;
interface ZkTransaction {
  create(path: string, data: Buffer | undefined, acls: ZkAcls): ZkTransaction;
  setData(path: string, data: Buffer, version: number): ZkTransaction;
  remove(path: string, version: number): ZkTransaction;
  commit(callback: (error: ZkError | null, results: { stat?: ZkStat }[]) => void): void;
}
/** node-zookeeper-client's ACL entries, passed back to it as they are. */
type ZkAcls = readonly unknown[];
interface ZkClient {
  connect(): void;
  addAuthInfo(scheme: string, auth: Buffer): void;
  close(): void;
  on(event: 'state', listener: (state: { name: string }) => void): void;
  getState(): { name: string };
  /** Internal: node-zookeeper-client's connection manager (see {@link shutDown}). */
  connectionManager: {
    socket?: { destroy(): void };
    connectTimeoutHandler?: NodeJS.Timeout;
    connect(): void;
    findNextServer(callback: unknown): void;
    setState(state: number): void;
  };
  getData(path: string, watcher: (() => void) | undefined, cb: Callback<Buffer>): void;
  getChildren(path: string, cb: Callback<string[]>): void;
  create(
    path: string,
    data: Buffer | undefined,
    acls: ZkAcls,
    cb: (error: ZkError | null) => void,
  ): void;
  mkdirp(path: string, acls: ZkAcls, cb: (error: ZkError | null) => void): void;
  transaction(): ZkTransaction;
}
interface ZkModule {
  createClient(servers: string, options: object): ZkClient;
  ACL: { OPEN_ACL_UNSAFE: ZkAcls; CREATOR_ALL_ACL: ZkAcls };
}

const NO_NODE = -101;
const NO_AUTH = -102;
const BAD_VERSION = -103;
const NODE_EXISTS = -110;
/** Errors after which a request may or may not have been applied: connection loss, timeout, expiry. */
const AMBIGUOUS = new Set([-4, -7, -112]);
/** node-zookeeper-client's ConnectionManager.STATES.CLOSING. */
const CLOSING = -1;

/** Where the backend keeps its nodes, and how it connects. */
export interface ZooKeeperBackendOptions {
  readonly servers: string;
  readonly path: string;
  readonly sessionTimeout: number;
  /** Digest credentials, `user:password`, added to every session. */
  readonly auth?: string;
  /** The ACL of the znodes the backend creates: the `auth` identity's alone, or anyone's. */
  readonly acl: 'creator' | 'open';
  /** The largest request the servers accept (`jute.maxbuffer`), in bytes. */
  readonly maxRequestBytes: number;
}

function zxid(buffer: Buffer): number {
  return Number(buffer.readBigUInt64BE(0));
}

/**
 * NO_AUTH as a GatewayError, which the store does not retry: other credentials would not appear
 * by waiting.
 */
function final(error: ZkError): Error {
  if (code(error) !== NO_AUTH) return error;
  return new StoreUnavailableError(
    `ZooKeeper refused access (${error.message}): the store's znodes need other credentials ("auth").`,
    { cause: error },
  );
}

function code(error: unknown): number | undefined {
  return typeof (error as ZkError)?.getCode === 'function'
    ? (error as ZkError).getCode()
    : undefined;
}

/** ZooKeeper 3.8+ through node-zookeeper-client: keys, head and log as znodes (see {@link LogBackend}). */
export class ZooKeeperBackend implements LogBackend {
  private readonly zk: ZkModule;
  private client!: ZkClient;
  private connected!: Promise<void>;
  private closed = false;
  private readonly headWaiters = new Set<() => void>();
  /** The session whose watch on the head is registered (a new session has none). */
  private headWatchSession: ZkClient | undefined;
  private readonly keysPath: string;
  private readonly logPath: string;
  private readonly headPath: string;
  private readonly acls: ZkAcls;

  constructor(private readonly options: ZooKeeperBackendOptions) {
    this.zk = requireOptionalPeer<ZkModule>('node-zookeeper-client', {
      feature: 'ZooKeeperStore',
    });
    this.keysPath = `${options.path}/keys`;
    this.logPath = `${options.path}/log`;
    this.headPath = `${options.path}/head`;
    this.acls =
      options.acl === 'creator' ? this.zk.ACL.CREATOR_ALL_ACL : this.zk.ACL.OPEN_ACL_UNSAFE;
    this.connect();
  }

  /**
   * A new session, made again when the old one is lost for good: when ZooKeeper expires it, or when
   * the client cannot get back in for a whole session timeout (a server restarted without its data
   * refuses a client that has seen later transactions than its own, and the client would retry
   * forever; ZooKeeper has expired such a session by then anyway).
   */
  private connect(): void {
    const client = this.zk.createClient(this.options.servers, {
      sessionTimeout: this.options.sessionTimeout,
      spinDelay: 200,
      retries: 0,
    });
    // Sent again by the client on every reconnection of the session.
    if (this.options.auth) client.addAuthInfo('digest', Buffer.from(this.options.auth, 'utf8'));
    this.client = client;
    let connected!: () => void;
    let lostTimer: NodeJS.Timeout | undefined;
    const waitForConnection = () => {
      this.connected = new Promise((resolve) => (connected = resolve));
    };
    const replace = () => {
      clearTimeout(lostTimer);
      shutDown(client);
      if (this.closed || this.client !== client) return;
      this.connect();
      // Calls waiting for the old session to come back wait for the new one instead (the old
      // one's promise would never settle: they would hang until their caller's timeout).
      connected();
      // The old session's watches are gone with it: every waiter reads the head anew.
      for (const wake of [...this.headWaiters]) wake();
    };
    waitForConnection();
    client.on('state', (state) => {
      if (state.name === 'SYNC_CONNECTED') {
        clearTimeout(lostTimer);
        connected();
      } else if (state.name === 'DISCONNECTED' && !this.closed && this.client === client) {
        waitForConnection();
        clearTimeout(lostTimer);
        lostTimer = setTimeout(replace, this.options.sessionTimeout);
        lostTimer.unref();
      } else if (state.name === 'EXPIRED') replace();
    });
    client.connect();
  }

  /** The client once connected; the store's request timeout bounds the wait. */
  private async session(): Promise<ZkClient> {
    for (;;) {
      const client = this.client;
      await this.connected;
      if (client === this.client) return client;
    }
  }

  private call<T>(run: (client: ZkClient, done: Callback<T>) => void): Promise<[T, ZkStat]> {
    return this.session().then(
      (client) =>
        new Promise((resolve, reject) =>
          run(client, (error, result, stat) =>
            error ? reject(final(error)) : resolve([result, stat]),
          ),
        ),
    );
  }

  private async read(path: string, watcher?: () => void): Promise<[Buffer, ZkStat] | undefined> {
    try {
      return await this.call<Buffer>((c, done) => c.getData(path, watcher, done));
    } catch (error) {
      if (code(error) === NO_NODE) return undefined;
      throw error;
    }
  }

  async readHead(): Promise<LogHead | undefined> {
    const found = await this.read(this.headPath);
    return found && this.toHead(found);
  }

  private toHead([data, stat]: [Buffer, ZkStat]): LogHead {
    const { seq, oldest, cluster } = JSON.parse(data.toString('utf8')) as LogHead;
    return { seq, oldest, cluster, revision: zxid(stat.mzxid), token: stat.version };
  }

  async createHead(cluster: string): Promise<void> {
    await this.call<void>((c, done) =>
      c.mkdirp(this.options.path, this.acls, (e) => done(e, undefined, undefined as never)),
    );
    const head = Buffer.from(JSON.stringify({ seq: 0, oldest: 1, cluster }));
    for (const [path, data] of [
      [this.keysPath, undefined],
      [this.logPath, undefined],
      [this.headPath, head],
    ] as const) {
      try {
        await this.call<void>((c, done) =>
          c.create(path, data, this.acls, (e) => done(e, undefined, undefined as never)),
        );
      } catch (error) {
        if (code(error) !== NODE_EXISTS) throw error;
      }
    }
  }

  async listKeys(prefix: string): Promise<string[]> {
    const start = encodeKey(prefix);
    try {
      const [names] = await this.call<string[]>((c, done) => c.getChildren(this.keysPath, done));
      return names.filter((name) => name.startsWith(start)).map(decodeKey);
    } catch (error) {
      if (code(error) === NO_NODE) return [];
      throw error;
    }
  }

  /** Sent together: ZooKeeper answers one session's requests in the order they were sent. */
  readHeadAndKeys(keys: readonly string[]) {
    return Promise.all([this.readHead(), this.readKeys(keys)]);
  }

  readKeys(keys: readonly string[]): Promise<(StoredKey | undefined)[]> {
    return Promise.all(
      keys.map(async (key) => {
        const found = await this.read(`${this.keysPath}/${encodeKey(key)}`);
        if (!found) return undefined;
        const [data, stat] = found;
        return {
          key,
          value: data.toString('utf8'),
          createRevision: zxid(stat.czxid),
          modRevision: zxid(stat.mzxid),
          token: stat.version,
        };
      }),
    );
  }

  readRecords(seqs: readonly number[]): Promise<(LogRecord | undefined)[]> {
    return Promise.all(
      seqs.map(async (seq) => {
        const found = await this.read(this.recordPath(seq));
        if (!found) return undefined;
        // Created by its commit: the creation zxid is the commit's.
        return {
          ...parseRecordBody(found[0].toString('utf8')),
          seq,
          revision: zxid(found[1].czxid),
        };
      }),
    );
  }

  async commit(plan: CommitPlan): Promise<number | undefined> {
    const record = plan.record && Buffer.from(JSON.stringify(plan.record.body));
    const values = plan.puts.map((put) => Buffer.from(put.value));
    // ZooKeeper drops the connection of a request over jute.maxbuffer: refuse it here instead.
    const bytes =
      (record?.length ?? 0) +
      values.reduce((sum, value, i) => sum + value.length + plan.puts[i].key.length * 3 + 64, 0);
    if (bytes > this.options.maxRequestBytes) {
      throw new ValidationError(
        `ZooKeeperStore: this write is about ${bytes} bytes; the store allows ${this.options.maxRequestBytes} (maxRequestBytes, which must stay below the servers' jute.maxbuffer).`,
      );
    }
    const client = await this.session();
    const t = client.transaction();
    t.setData(this.headPath, Buffer.from(JSON.stringify(plan.newHead)), plan.head.token);
    if (plan.record && record) t.create(this.recordPath(plan.record.seq), record, this.acls);
    plan.puts.forEach((put, i) => {
      const path = `${this.keysPath}/${encodeKey(put.key)}`;
      if (put.token === undefined) t.create(path, values[i], this.acls);
      else t.setData(path, values[i], put.token);
    });
    for (const del of plan.deletes) t.remove(`${this.keysPath}/${encodeKey(del.key)}`, del.token);
    for (const seq of plan.trim) t.remove(this.recordPath(seq), -1);
    try {
      const results = await new Promise<{ stat?: ZkStat }[]>((resolve, reject) =>
        t.commit((error, r) => (error ? reject(error) : resolve(r))),
      );
      return zxid(results[0].stat!.mzxid);
    } catch (error) {
      const failed = code(error);
      if (failed === BAD_VERSION || failed === NODE_EXISTS || failed === NO_NODE) return undefined;
      // Only a lost connection leaves the outcome unknown; any other answer is final.
      if (failed !== undefined && !AMBIGUOUS.has(failed)) {
        throw new StoreUnavailableError(`ZooKeeper refused the write: ${error}`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * Reads the head with a watch on it (and, in the same round trip, the record after `known`, so
   * that a watcher needs no second one), then waits for the watch when the head is unchanged.
   */
  async waitForHead(
    known: LogHead,
    maxWait: number,
    signal: AbortSignal,
  ): Promise<HeadChange | undefined> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.headWaiters.add(wake);
    let timer: NodeJS.Timeout | undefined;
    signal.addEventListener('abort', wake, { once: true });
    try {
      const watcher = this.headWatch();
      const [found, [next]] = await Promise.all([
        this.read(this.headPath, watcher),
        this.readRecords([known.seq + 1]),
      ]).catch((error: unknown) => {
        if (watcher) this.headWatchSession = undefined;
        throw error;
      });
      if (!found && watcher) this.headWatchSession = undefined;
      const head = found && this.toHead(found);
      if (!head || head.token !== known.token || signal.aborted) return { head, next };
      await Promise.race([woken, new Promise((resolve) => (timer = setTimeout(resolve, maxWait)))]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      this.headWaiters.delete(wake);
    }
    if (signal.aborted) return undefined;
    if (this.client.getState().name !== 'SYNC_CONNECTED') {
      throw new StoreUnavailableError('ZooKeeper is unreachable (the connection was lost).');
    }
    const [head, [next]] = await Promise.all([this.readHead(), this.readRecords([known.seq + 1])]);
    return { head, next };
  }

  /**
   * One ZooKeeper watch on the head at a time, shared by every waiter: ZooKeeper keeps each
   * registered watcher until the node changes, so one per wait would pile up on an idle store.
   */
  private headWatch(): (() => void) | undefined {
    if (this.headWatchSession === this.client) return undefined;
    const session = this.client;
    this.headWatchSession = session;
    return () => {
      if (this.headWatchSession === session) this.headWatchSession = undefined;
      for (const wake of [...this.headWaiters]) wake();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    shutDown(this.client);
  }

  private recordPath(seq: number): string {
    return `${this.logPath}/${String(seq).padStart(12, '0')}`;
  }
}

/**
 * Ends a client whatever its state. node-zookeeper-client's own `close()` works only once
 * connected: before that it throws inside its socket handlers (an uncaught exception in the host)
 * or reconnects forever. So a client not connected is stopped from reconnecting and its socket
 * destroyed, with its state set to closing so that the socket's close ends it for good.
 */
function shutDown(client: ZkClient): void {
  const manager = client.connectionManager;
  if (client.getState().name === 'SYNC_CONNECTED') {
    client.close();
    return;
  }
  manager.connect = () => undefined;
  manager.findNextServer = () => undefined;
  clearTimeout(manager.connectTimeoutHandler);
  manager.setState(CLOSING);
  manager.socket?.destroy();
}
