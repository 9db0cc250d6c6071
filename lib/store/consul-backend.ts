import { EventEmitter } from 'node:events';
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
import { parseRecordBody, seqRange } from './log-backend';
import { decodeKey, encodeKey } from './key-encoding';

/** One KV entry as Consul's HTTP API answers it (values in base64 inside transactions). */
interface ConsulEntry {
  readonly Key: string;
  readonly Value: string | null;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}
interface ConsulResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
}
type Ctx = EventEmitter & { includeResponse: true };
/** The parts of the `consul` package the backend uses (structural: it is an optional peer). */
interface ConsulClient {
  kv: {
    get(opts: object): Promise<[ConsulResponse, ConsulEntry | ConsulEntry[] | undefined]>;
    keys(opts: object): Promise<[ConsulResponse, string[] | undefined]>;
  };
  transaction: { create(ops: object[], opts: object): Promise<[ConsulResponse, unknown]> };
  destroy(): void;
}
type ConsulModule = new (options: object) => ConsulClient;
interface TxnAnswer {
  readonly Results: { KV: ConsulEntry }[] | null;
  readonly Errors: { OpIndex: number; What: string }[] | null;
}

/** Consul refuses transactions of more operations. */
export const CONSUL_MAX_TXN_OPS = 64;

/** Where the backend keeps its entries, and how it reaches Consul. */
export interface ConsulBackendOptions {
  readonly url: string;
  readonly token?: string;
  readonly path: string;
  /** The longest one request waits (a blocking query waits this on top of its own wait), in ms. */
  readonly requestTimeout: number;
  /** The largest transaction request the agent accepts (`limits.txn_max_req_len`), in bytes. */
  readonly maxRequestBytes: number;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | null) => Buffer.from(text ?? '', 'base64').toString('utf8');

/**
 * Consul's KV store through the `consul` package: keys, head and log as entries under `path`,
 * commits through `/v1/txn` with index checks, head changes through blocking queries.
 */
export class ConsulBackend implements LogBackend {
  private readonly client: ConsulClient;
  private readonly headKey: string;
  private readonly keysPrefix: string;
  private readonly logPrefix: string;

  constructor(private readonly options: ConsulBackendOptions) {
    const module = requireOptionalPeer<ConsulModule>('consul', { feature: 'ConsulStore' });
    this.client = new module({
      baseUrl: `${options.url.replace(/\/+$/, '')}/v1`,
      defaults: options.token ? { token: options.token } : {},
    });
    this.headKey = `${options.path}/head`;
    this.keysPrefix = `${options.path}/keys/`;
    this.logPrefix = `${options.path}/log/`;
  }

  /** papi's request context: an EventEmitter (its 'cancel' aborts); the flag adds the response. */
  private ctx(): Ctx {
    return Object.assign(new EventEmitter(), { includeResponse: true as const });
  }

  private async entry(key: string, query: object = {}) {
    const [response, entry] = await this.client.kv.get({ key, ctx: this.ctx(), ...query });
    return { response, entry: entry as ConsulEntry | undefined };
  }

  async readHead(): Promise<LogHead | undefined> {
    const { entry } = await this.entry(this.headKey, { consistent: true });
    return entry && toHead(entry);
  }

  async createHead(cluster: string): Promise<void> {
    const value = JSON.stringify({ seq: 0, oldest: 1, cluster });
    // Index 0: only if absent; a writer that got there first wins.
    await this.txn([{ KV: { Verb: 'cas', Key: this.headKey, Value: b64(value), Index: 0 } }]);
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys = await this.client.kv
      .keys({ key: this.keysPrefix + encodeKey(prefix), consistent: true, ctx: this.ctx() })
      .then(
        ([, found]) => found,
        (error: { response?: ConsulResponse }) => {
          // An empty prefix is a 404 here (kv.get answers undefined instead).
          if (error.response?.statusCode === 404) return [];
          throw error;
        },
      );
    return (keys ?? []).map((key) => decodeKey(key.slice(this.keysPrefix.length)));
  }

  async readPrefix(prefix: string): Promise<StoredKey[]> {
    const { entry } = await this.entry(this.keysPrefix + encodeKey(prefix), {
      recurse: true,
      consistent: true,
    });
    const entries = (entry ?? []) as unknown as ConsulEntry[];
    // `kv.get` decodes values from base64 itself.
    return entries.map((e) => ({
      key: decodeKey(e.Key.slice(this.keysPrefix.length)),
      value: e.Value ?? '',
      createRevision: e.CreateIndex,
      modRevision: e.ModifyIndex,
      token: e.ModifyIndex,
    }));
  }

  /**
   * One read-only transaction: `get-tree` (not `get`, which fails the whole transaction on an
   * absent key) of the head and of each key, keeping exact matches.
   */
  async readHeadAndKeys(
    keys: readonly string[],
  ): Promise<[LogHead | undefined, (StoredKey | undefined)[]]> {
    // A write's head, record and trim come on top of its keys: refuse early what cannot commit.
    checkOperationCount(keys.length + 3);
    const names = keys.map((key) => this.keysPrefix + encodeKey(key));
    const answer = await this.txn(
      [this.headKey, ...names].map((Key) => ({ KV: { Verb: 'get-tree', Key } })),
    );
    const found = new Map((answer.Results ?? []).map(({ KV }) => [KV.Key, KV]));
    const head = found.get(this.headKey);
    return [
      head && toHead({ ...head, Value: unb64(head.Value) }),
      names.map((name, i) => {
        const entry = found.get(name);
        return entry && this.toStoredKey(entry, keys[i]);
      }),
    ];
  }

  private toStoredKey(entry: ConsulEntry, key: string): StoredKey {
    return {
      key,
      value: unb64(entry.Value),
      createRevision: entry.CreateIndex,
      modRevision: entry.ModifyIndex,
      token: entry.ModifyIndex,
    };
  }

  async readKeys(keys: readonly string[]): Promise<(StoredKey | undefined)[]> {
    return this.readMany(
      keys.map((key) => this.keysPrefix + encodeKey(key)),
      (entry, i) => this.toStoredKey(entry, keys[i]),
    );
  }

  async readRecords(seqs: readonly number[]): Promise<(LogRecord | undefined)[]> {
    return this.readMany(
      seqs.map((seq) => this.recordKey(seq)),
      (entry, i): LogRecord => ({
        ...parseRecordBody(unb64(entry.Value)),
        seq: seqs[i],
        revision: entry.ModifyIndex,
      }),
    );
  }

  /**
   * Reads many entries in transactions of `get`s (one request per 64). Consul fails a whole
   * transaction on an absent key: that key is noted as absent and the rest read again.
   */
  private async readMany<T>(
    keys: readonly string[],
    convert: (entry: ConsulEntry, index: number) => T,
  ): Promise<(T | undefined)[]> {
    const out: (T | undefined)[] = new Array(keys.length).fill(undefined);
    const chunks: number[][] = [];
    for (let i = 0; i < keys.length; i += CONSUL_MAX_TXN_OPS) {
      chunks.push(seqRange(i, Math.min(keys.length, i + CONSUL_MAX_TXN_OPS) - 1));
    }
    await Promise.all(
      chunks.map(async (chunk) => {
        let wanted = chunk;
        while (wanted.length > 0) {
          const answer = await this.txn(wanted.map((i) => ({ KV: { Verb: 'get', Key: keys[i] } })));
          if (answer.Errors?.length) {
            const absent = new Set(answer.Errors.map((e) => wanted[e.OpIndex]));
            wanted = wanted.filter((i) => !absent.has(i));
            continue;
          }
          answer.Results!.forEach((result, j) => (out[wanted[j]] = convert(result.KV, wanted[j])));
          wanted = [];
        }
      }),
    );
    return out;
  }

  async commit(plan: CommitPlan): Promise<number | undefined> {
    const ops: object[] = [
      {
        KV: {
          Verb: 'cas',
          Key: this.headKey,
          Value: b64(JSON.stringify(plan.newHead)),
          Index: plan.head.token,
        },
      },
    ];
    if (plan.record) {
      const value = b64(JSON.stringify(plan.record.body));
      ops.push({
        KV: { Verb: 'cas', Key: this.recordKey(plan.record.seq), Value: value, Index: 0 },
      });
    }
    for (const put of plan.puts) {
      const Key = this.keysPrefix + encodeKey(put.key);
      ops.push({ KV: { Verb: 'cas', Key, Value: b64(put.value), Index: put.token ?? 0 } });
    }
    for (const del of plan.deletes) {
      ops.push({
        KV: { Verb: 'delete-cas', Key: this.keysPrefix + encodeKey(del.key), Index: del.token },
      });
    }
    for (const seq of plan.trim) ops.push({ KV: { Verb: 'delete', Key: this.recordKey(seq) } });
    checkOperationCount(ops.length);
    const bytes = Buffer.byteLength(JSON.stringify(ops));
    if (bytes > this.options.maxRequestBytes) {
      throw new ValidationError(
        `ConsulStore: this write is ${bytes} bytes as a Consul transaction; the store allows ${this.options.maxRequestBytes} (maxRequestBytes, which must not exceed the agent's limits.txn_max_req_len).`,
      );
    }
    const answer = await this.txn(ops);
    if (answer.Errors?.length) return undefined;
    return answer.Results![0].KV.ModifyIndex;
  }

  async waitForHead(
    known: LogHead,
    maxWait: number,
    signal: AbortSignal,
  ): Promise<HeadChange | undefined> {
    const ctx = this.ctx();
    const cancel = () => ctx.emit('cancel');
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const { entry } = await this.entry(this.headKey, {
        index: known.token,
        wait: `${Math.max(1, Math.round(maxWait / 1000))}s`,
        timeout: maxWait + this.options.requestTimeout,
        ctx,
      });
      if (signal.aborted) return undefined;
      return { head: entry && toHead(entry) };
    } catch (error) {
      if (signal.aborted) return undefined;
      throw error;
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** One transaction: its answer, whether Consul applied it (200) or refused a check (409). */
  private async txn(ops: object[]): Promise<TxnAnswer> {
    try {
      const [, body] = await this.client.transaction.create(ops, {
        ctx: this.ctx(),
        timeout: this.options.requestTimeout,
      });
      return body as TxnAnswer;
    } catch (error) {
      const response = (error as { response?: ConsulResponse & { body?: unknown } }).response;
      if (response?.statusCode === 409) return response.body as TxnAnswer;
      // Refused outright (a bad request, a token without rights): not worth retrying.
      if (response && response.statusCode >= 400 && response.statusCode < 500) {
        throw new StoreUnavailableError(
          `Consul refused the request (${response.statusCode}): ${(error as Error).message}`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  private recordKey(seq: number): string {
    return this.logPrefix + String(seq).padStart(12, '0');
  }
}

/** A head read through `kv.get` (which decodes values from base64 itself). */
function toHead(entry: ConsulEntry): LogHead {
  const { seq, oldest, cluster } = JSON.parse(entry.Value ?? '') as LogHead;
  return { seq, oldest, cluster, revision: entry.ModifyIndex, token: entry.ModifyIndex };
}

function checkOperationCount(count: number): void {
  if (count > CONSUL_MAX_TXN_OPS) {
    throw new ValidationError(
      `ConsulStore: a write may change at most ${CONSUL_MAX_TXN_OPS - 3} keys (Consul's transaction limit), got ${count - 3}.`,
    );
  }
}
