import { inspect } from 'node:util';
import { MAX_TIMER_MS, optionsArgument } from '../model/checks';
import { ValidationError } from '../errors';
import { ConsulBackend } from './consul-backend';
import { positiveOption } from '../model/checks';
import { LogBackedStore, type LogStoreOptions } from './log-backed-store';

function isAgentUrl(url: unknown): boolean {
  try {
    const parsed = new URL(url as string);
    return /^https?:$/.test(parsed.protocol) && parsed.hostname !== '';
  } catch {
    return false;
  }
}

/** Options of {@link ConsulStore}. */
export interface ConsulStoreOptions extends LogStoreOptions {
  /** The HTTP address of a Consul agent, e.g. `'http://127.0.0.1:8500'`. */
  url: string;
  /**
   * An ACL token (sent as `X-Consul-Token`) for agents with ACLs on: it needs `write` on the
   * store's key prefix, e.g. a policy of `key_prefix "event-gateway/" { policy = "write" }`. Keep
   * it out of source and command lines (read it from a file or the environment).
   * @default none (the agent's anonymous token)
   * @example
   * ```ts
   * new ConsulStore({ url, token: process.env.CONSUL_HTTP_TOKEN });
   * ```
   */
  token?: string;
  /**
   * The key prefix under which the store keeps its keys, head and change log. Gateways that share
   * configuration use the same path.
   * @default 'event-gateway'
   */
  path?: string;
  /**
   * The largest write, in bytes of its Consul transaction (keys, values and the change record, in
   * base64); larger ones fail with ValidationError. Keep it at or below the agent's
   * `limits.txn_max_req_len`.
   * @default 524288 (Consul's default limit)
   */
  maxRequestBytes?: number;
}

/**
 * A store on Consul's KV store (tested with 1.8, through the `consul` package, an optional peer dependency
 * loaded when the first ConsulStore is constructed). Revisions are Consul's raft indexes
 * (`ModifyIndex`); each write is one `/v1/txn` with index checks that also swaps a head entry
 * and appends a change record, so transactions check every compare of the contract against one
 * state, and watches (blocking queries on the head) resume from any revision the change log
 * (`historySize` records) still covers.
 *
 * Consul limits one transaction to 64 operations (so one write to 61 keys) and, by default, a
 * value to 512 KiB and a transaction to 512 KiB (`limits.txn_max_req_len`, `kv_max_value_size`).
 * @example
 * ```ts
 * const store = new ConsulStore({ url: 'http://127.0.0.1:8500' });
 * const gateway = createGateway(store);
 * ```
 */
export class ConsulStore extends LogBackedStore {
  readonly name = 'ConsulStore';
  private readonly url: string;

  constructor(options: ConsulStoreOptions) {
    optionsArgument(options, 'new ConsulStore(options)');
    if (!isAgentUrl(options.url)) {
      throw new ValidationError(
        `ConsulStore: url must be an agent's HTTP address such as 'http://127.0.0.1:8500', got ${JSON.stringify(options.url)}.`,
      );
    }
    const path = options.path ?? 'event-gateway';
    if (!/^[^/]+(\/[^/]+)*$/.test(path)) {
      throw new ValidationError(
        `ConsulStore: path must be a key prefix without leading or trailing slashes, got "${path}".`,
      );
    }
    super(
      () =>
        new ConsulBackend({
          url: options.url,
          token: options.token,
          path,
          requestTimeout: positiveOption(
            options.requestTimeout ?? 5000,
            'requestTimeout',
            MAX_TIMER_MS,
          ),
          maxRequestBytes: positiveOption(options.maxRequestBytes ?? 512 * 1024, 'maxRequestBytes'),
        }),
      options,
    );
    this.url = options.url;
  }

  /** The servers' client endpoints: the gateway never delivers a function there. */
  endpoints(): readonly string[] {
    return [this.url];
  }

  /** What the REPL prints. */
  [inspect.custom](): string {
    return `ConsulStore { url: ${this.url} }`;
  }
}
