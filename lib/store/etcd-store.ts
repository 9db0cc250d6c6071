import { MAX_TIMER_MS } from '../model/checks';
import { wellFormedListing, wellFormedText, wellFormedTxn } from './well-formed-text';
import type { Etcd3, IKeyValue } from 'etcd3';
import { inspect } from 'node:util';
import {
  GatewayClosedError,
  GatewayError,
  RevisionCompactedError,
  StoreUnavailableError,
  ValidationError,
} from '../errors';
import { keepAliveWhile } from '../model/keep-alive';
import { exponentialDelay } from '../model/exponential-delay';
import { RewatchPacer } from '../model/rewatch-pacer';
import { pause } from './deadline';
import { EtcdCommit } from './etcd-commit';
import { ETCD_RETRY_BACKOFF, isUnavailable, prefixEnd } from './etcd-requests';
import { EtcdCalls } from './etcd-calls';
import { http2WatchStream, type WatchStreamOpener } from './etcd-watch-stream';
import { etcdWatch, type EtcdWatchHost } from './etcd-watch';
import {
  decodeRangeResponse,
  encodeCompaction,
  encodeRange,
  MAX_MESSAGE_BYTES,
  type RangeRequest,
  type RangeResponseMessage,
} from './etcd-wire';
import { createEtcd3Client } from './etcd3-client';
import { etcd3WatchStream } from './etcd3-watch-stream';
import type {
  Compare,
  KeyValue,
  ListOptions,
  ListResult,
  Operation,
  Store,
  Watch,
  WatchListener,
  WriteOptions,
  WriteResult,
} from './store';

/** Options of {@link EtcdStore}. */
export interface EtcdStoreOptions {
  /** The etcd client URLs, e.g. `['http://10.0.0.1:2379', 'http://10.0.0.2:2379']`. */
  hosts: string | string[];
  /**
   * etcd user and password, when etcd's authentication is on (`etcdctl auth enable`). Keep the
   * password out of source and command lines (read it from a file or the environment).
   * @default none
   * @example
   * ```ts
   * auth: { username: 'gateway', password: process.env.ETCD_PASSWORD! }
   * ```
   */
  auth?: { username: string; password: string };
  /**
   * TLS for every host (whatever its scheme): the CA certificate that signs etcd's, and, for
   * mutual TLS (etcd's `--client-cert-auth`), this client's certificate chain and private key, all
   * PEM. Without it, `https://` hosts are checked against the system's CAs.
   * @default none (plain gRPC for `http://` hosts)
   * @example
   * ```ts
   * tls: {
   *   rootCertificate: readFileSync('ca.pem'),
   *   certChain: readFileSync('client.pem'),
   *   privateKey: readFileSync('client-key.pem'),
   * }
   * ```
   */
  tls?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer };
  /**
   * How long one call (a read or a write, retries included) may take before it fails with
   * StoreUnavailableError, in ms. A write never hangs while etcd is unreachable.
   * @default 5000
   */
  requestTimeout?: number;
  /**
   * How often a watch checks, with a linearizable read, that it has not gone silent (a member cut
   * off from its cluster keeps watches open without sending anything), in ms; 0 turns it off. A
   * watch that misses a change for two checks in a row ends with an error (and the cache relists).
   * @default 10000
   */
  watchCheckInterval?: number;
  /**
   * Extra gRPC channel options, merged over the defaults. Watches do not use gRPC's client
   * (node:http2 with etcd's few watch messages decoded by hand costs a third of its CPU per
   * change): they honour `grpc.keepalive_time_ms`, `grpc.keepalive_timeout_ms` and
   * `grpc.max_receive_message_length` (the largest message accepted from etcd: 64 MiB unless set
   * here, -1 for no limit, which lets a peer that is not etcd have the client buffer whatever it
   * sends), and any other key here moves watches to etcd3's watcher, which applies them all.
   * @default none
   */
  grpcOptions?: Record<string, string | number>;
}

/** The gRPC options node:http2 calls honour. */
const HTTP2_OPTIONS = new Set([
  'grpc.keepalive_time_ms',
  'grpc.keepalive_timeout_ms',
  'grpc.max_receive_message_length',
]);

const RANGE = '/etcdserverpb.KV/Range';
const COMPACT = '/etcdserverpb.KV/Compact';

function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

/**
 * The production store: etcd (tested with 3.4) through the etcd3 client (loaded when the first EtcdStore is
 * constructed, so that in-memory users never pay for it). Many gateway instances on many
 * machines share one etcd cluster.
 *
 * It keeps the store contract where etcd3 alone would not (see docs/etcd-watch.md): listings
 * are linearizable and paginated at one revision; a watch starts exactly where it is asked to
 * and ends (for the cache to relist) on any disconnect, compaction, revision going backwards,
 * cluster change or silence, instead of resuming on its own from a revision that may skip
 * events; a transaction whose answer was lost is settled by its commit marker (see
 * `EtcdCommit`), never answered as failed when it may have been applied; calls fail with
 * StoreUnavailableError within `requestTimeout` instead of hanging.
 *
 * @example
 * ```ts
 * const store = new EtcdStore({ hosts: ['http://etcd-1:2379', 'http://etcd-2:2379'] });
 * const gateway = createGateway(store);
 * ```
 */
export class EtcdStore implements Store {
  readonly name = 'EtcdStore';
  private etcd3: Etcd3 | undefined;
  private readonly newClient: () => Etcd3;
  /** Reads and compaction over node:http2; undefined on the etcd3 fallback (`grpcOptions`). */
  private readonly calls: EtcdCalls | undefined;
  private readonly requestTimeout: number;
  private readonly watchCheckInterval: number;
  private readonly watches = new Set<() => void>();
  /** The cluster the last listing came from; a watch answered by another one ends in a reset. */
  private clusterId: string | undefined;
  private closed = false;
  private commits: EtcdCommit | undefined;
  /** What each watch needs of the store (see `etcdWatch`). */
  private readonly watchHost: EtcdWatchHost;

  /** Only the hosts are kept: the options may hold a password (`auth`), which no dump may show. */
  private readonly hosts: readonly string[];
  /** How the next watch connects (a closure: it holds `auth`, which no dump may show). */
  private readonly openWatchStream: () => WatchStreamOpener;

  constructor(options: EtcdStoreOptions) {
    if (!options || (typeof options.hosts !== 'string' && !Array.isArray(options.hosts))) {
      throw new ValidationError('EtcdStore: "hosts" is required (a URL or a list of URLs).');
    }
    this.hosts = Array.isArray(options.hosts) ? [...options.hosts] : [options.hosts];
    this.requestTimeout = options.requestTimeout ?? 5000;
    this.watchCheckInterval = options.watchCheckInterval ?? 10_000;
    for (const [name, value] of [
      ['requestTimeout', this.requestTimeout],
      ['watchCheckInterval', this.watchCheckInterval],
    ] as const) {
      if (!Number.isInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
        throw new ValidationError(
          `EtcdStore: "${name}" must be a positive integer of at most ${MAX_TIMER_MS} (ms).`,
        );
      }
    }
    const grpcOptions = {
      // Watch responses and listings over 4 MiB are otherwise refused and silently lost.
      'grpc.max_receive_message_length': -1,
      // Half-open TCP would hide a lost connection; no pings without calls (etcd refuses them).
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5000,
      ...options.grpcOptions,
    };
    const keepalive = (name: string): number => {
      const value = Number(grpcOptions[name as keyof typeof grpcOptions]);
      if (!Number.isInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
        throw new ValidationError(
          `EtcdStore: "grpcOptions['${name}']" must be a positive integer of at most ${MAX_TIMER_MS} (ms).`,
        );
      }
      return value;
    };
    const { auth, tls } = options;
    const maxMessageBytes = maxReceiveBytes(
      options.grpcOptions?.['grpc.max_receive_message_length'],
    );
    const keepaliveTime = keepalive('grpc.keepalive_time_ms');
    const keepaliveTimeout = keepalive('grpc.keepalive_timeout_ms');
    this.newClient = () =>
      createEtcd3Client({ hosts: this.hosts, auth, tls, grpcOptions }, this.requestTimeout);
    if (Object.keys(options.grpcOptions ?? {}).some((name) => !HTTP2_OPTIONS.has(name))) {
      const opener = etcd3WatchStream(this.client);
      this.openWatchStream = () => opener;
    } else {
      this.calls = new EtcdCalls(this.hosts, { auth, tls, maxMessageBytes });
      let next = 0;
      // Each watch asks the next host: one that failed is not asked again first.
      this.openWatchStream = () =>
        http2WatchStream({
          url: this.hosts[next++ % this.hosts.length],
          auth,
          tls,
          maxMessageBytes,
          timeout: this.requestTimeout,
          keepaliveTime,
          keepaliveTimeout,
        });
    }
    const open = this.openWatchStream;
    this.watchHost = {
      watchCheckInterval: this.watchCheckInterval,
      pacer: new RewatchPacer(ETCD_RETRY_BACKOFF),
      openStream: (prefix, fromRevision, handlers) =>
        open()(Buffer.from(prefix), prefixEnd(prefix), fromRevision, handlers),
      latestRevision: async (prefix) => {
        const res = await this.call(() =>
          this.range({
            key: Buffer.from(prefix),
            rangeEnd: prefixEnd(prefix),
            limit: 1,
            newestFirst: true,
            keysOnly: true,
          }),
        );
        return res.kvs[0]?.modRevision ?? 0;
      },
      convert: (error) => this.convert(error),
      track: (stop, running) => void (running ? this.watches.add(stop) : this.watches.delete(stop)),
    };
  }

  /**
   * The etcd3 client, for what the contract does not cover (leases, maintenance). Created on
   * first use (writes use it; reads and watches do not, unless `grpcOptions` asks for gRPC
   * settings only it applies): an instance that only reads never loads etcd3 and gRPC.
   */
  get client(): Etcd3 {
    this.etcd3 ??= this.newClient();
    return this.etcd3;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    wellFormedText(key, 'key');
    const res = await keepAliveWhile(this.call(() => this.range({ key: Buffer.from(key) })));
    return res.kvs[0];
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    wellFormedListing(prefix, options);
    const start =
      options.after === undefined ? Buffer.from(prefix) : Buffer.from(options.after + '\0');
    let res: RangeResponseMessage;
    try {
      res = await keepAliveWhile(
        this.call(() =>
          this.range({
            key: start,
            rangeEnd: prefixEnd(prefix),
            limit: options.limit,
            revision: options.revision,
          }),
        ),
      );
    } catch (error) {
      if (/compacted/.test(String((error as Error)?.cause ?? (error as Error).message))) {
        throw new RevisionCompactedError(
          `EtcdStore: revision ${options.revision} has been compacted.`,
          0,
        );
      }
      throw error;
    }
    // A listing is the truth the caller rebuilds from: its cluster is the one watches must match.
    this.clusterId = res.clusterId;
    return {
      items: res.kvs,
      // A listing at a past revision is consistent at that revision, whatever the header says.
      revision: options.revision ?? res.revision,
      more: res.more,
    };
  }

  put(key: string, value: string, options: WriteOptions = {}): Promise<WriteResult> {
    const compares =
      options.ifModRevision === undefined ? [] : [{ key, modRevision: options.ifModRevision }];
    return this.txn(compares, [{ type: 'put', key, value }]);
  }

  delete(key: string, options: WriteOptions = {}): Promise<WriteResult> {
    const compares =
      options.ifModRevision === undefined ? [] : [{ key, modRevision: options.ifModRevision }];
    return this.txn(compares, [{ type: 'delete', key }]);
  }

  /**
   * Commits a transaction (see `EtcdCommit`): never answers a failure for a write that may
   * have been applied.
   */
  async txn(compares: readonly Compare[], operations: readonly Operation[]): Promise<WriteResult> {
    this.assertOpen();
    wellFormedTxn(compares, operations);
    this.commits ??= new EtcdCommit({
      client: this.client,
      requestTimeout: this.requestTimeout,
      isClosed: () => this.closed,
      convert: (error) => this.convert(error),
    });
    return keepAliveWhile(this.commits.txn(compares, operations));
  }

  watch(prefix: string, fromRevision: number, listener: WatchListener): Watch {
    this.assertOpen();
    wellFormedText(prefix, 'prefix');
    return etcdWatch(this.watchHost, prefix, fromRevision, this.clusterId, listener);
  }

  /** Discards etcd's history up to `revision` (physically), as operators do. */
  async compact(revision: number): Promise<void> {
    await keepAliveWhile(
      this.call(async () => {
        if (!this.calls) await this.client.kv.compact({ revision, physical: true });
        else await this.calls.call(COMPACT, encodeCompaction(revision, true), this.deadline());
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.watches]) stop();
    this.calls?.close();
    this.etcd3?.close();
  }

  /** The servers' client endpoints: the gateway never delivers a function there. */
  endpoints(): readonly string[] {
    return [...this.hosts];
  }

  /** What the REPL prints. */
  [inspect.custom](): string {
    const hosts = this.hosts.join(', ');
    return `EtcdStore { hosts: ${hosts}${this.closed ? ', closed' : ''} }`;
  }

  /** A linearizable read: over node:http2 (see `EtcdCalls`), or etcd3 on its fallback. */
  private async range(req: RangeRequest): Promise<RangeResponseMessage> {
    if (this.calls) {
      return decodeRangeResponse(await this.calls.call(RANGE, encodeRange(req), this.deadline()));
    }
    const res = await this.client.kv.range({
      key: req.key,
      range_end: req.rangeEnd,
      limit: req.limit ?? 0,
      revision: req.revision ?? 0,
      keys_only: req.keysOnly,
      ...(req.newestFirst ? { sort_target: 'Mod', sort_order: 'Descend' } : {}),
    });
    return {
      revision: Number(res.header.revision),
      clusterId: res.header.cluster_id,
      kvs: res.kvs.map(toKeyValue),
      more: res.more,
    };
  }

  private deadline(): number {
    return Date.now() + this.requestTimeout;
  }

  private assertOpen(): void {
    if (this.closed) throw new GatewayClosedError('EtcdStore is closed.');
  }

  /**
   * Runs a read, retrying while etcd is unreachable (another member may answer) until
   * `requestTimeout`, then fails with StoreUnavailableError. Writes go through `EtcdCommit`.
   */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    const deadline = Date.now() + this.requestTimeout;
    let retries = 0;
    let delay = exponentialDelay(retries, ETCD_RETRY_BACKOFF);
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (this.closed) throw new GatewayClosedError('EtcdStore is closed.');
        if (!isUnavailable(error)) throw this.convert(error);
        if (Date.now() + delay >= deadline) {
          throw new StoreUnavailableError(
            `etcd did not answer within ${this.requestTimeout} ms: ${(error as Error).message}`,
            { cause: error },
          );
        }
        await pause(delay);
        delay = exponentialDelay(++retries, ETCD_RETRY_BACKOFF);
      }
    }
  }

  /** gRPC and etcd3 errors become ours at this boundary. */
  private convert(error: unknown): GatewayError {
    if (error instanceof GatewayError) return error;
    const message = (error as Error)?.message ?? String(error);
    return new StoreUnavailableError(`etcd failed: ${message}`, { cause: error });
  }
}

/**
 * The bound on one message of the node:http2 path: `MAX_MESSAGE_BYTES` unless the caller's
 * `grpc.max_receive_message_length` says otherwise (-1: none, as on etcd3's path).
 */
function maxReceiveBytes(value: string | number | undefined): number {
  if (value === undefined) return MAX_MESSAGE_BYTES;
  const bytes = Number(value);
  if (bytes === -1) return Infinity;
  if (!Number.isSafeInteger(bytes) || bytes < 5) {
    throw new ValidationError(
      `EtcdStore: "grpcOptions['grpc.max_receive_message_length']" must be -1 (no limit) or a number of bytes.`,
    );
  }
  return bytes;
}
