import { InvocationError } from '../../../errors';
import { describeError } from '../../../model/describe-error';
import type { FunctionRecord } from '../../../model/function';
import { normalizeHostName } from '../../../model/host-name';
import { requireOptionalPeer } from '../../../model/optional-peer';
import { OutboundPolicies } from '../../../model/outbound-policies';
import { OutboundPolicy, type OutboundCheck } from '../../../model/outbound-policy';
import { BoundedCache } from '../bounded-cache';
import { guardAgent } from '../guarded-agent';

/** The AWS services the built-in providers call. */
export type AwsService = 'lambda' | 'sqs' | 'kinesis' | 'firehose';

/** The package of each service's SDK client: optional peer dependencies, loaded on first use. */
export const AWS_PACKAGES: Readonly<Record<AwsService, string>> = {
  lambda: '@aws-sdk/client-lambda',
  sqs: '@aws-sdk/client-sqs',
  kinesis: '@aws-sdk/client-kinesis',
  firehose: '@aws-sdk/client-firehose',
};

const CLIENT_CLASSES: Readonly<Record<AwsService, string>> = {
  lambda: 'LambdaClient',
  sqs: 'SQSClient',
  kinesis: 'KinesisClient',
  firehose: 'FirehoseClient',
};

/** What the providers use of an SDK v3 client. */
export interface SdkClient {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

/** An SDK module: its client class and command classes, by name. */
export type SdkModule = Record<string, new (input: unknown) => unknown>;

/** Options of {@link AwsClients}. */
export interface AwsClientsOptions {
  /**
   * Where AWS endpoints may be reached (a provider's `endpoint`, a queue URL's host): a policy,
   * or the gateway's policies (a tenant's function is held to its space's tenant policy).
   */
  readonly outbound: OutboundPolicy | OutboundPolicies;
  /** Most connections per client. @default 256 */
  readonly connections?: number;
  /**
   * Hosts besides AWS's own where a function without keys of its own is signed with the host's
   * default credentials: see {@link AwsOptions.credentialHosts}.
   * @default []
   */
  readonly credentialHosts?: readonly string[];
}

/** AWS options of a gateway (`createGateway(store, { aws })`). */
export interface AwsOptions {
  /**
   * Hosts (names, `*.domain`, addresses, CIDR ranges) besides AWS's own (`*.amazonaws.com`,
   * `*.amazonaws.com.cn`, `*.api.aws`) where a function that has no AWS keys of its own may be
   * signed with the host's default credentials (environment, profile, role): a VPC endpoint's
   * private name, a local emulator. Anywhere else such a function fails for good: a function's
   * `endpoint` or queue URL is chosen by whoever registers it, and the host's access key and
   * session token must never reach a server a tenant chose.
   * @default []
   * @example
   * ```ts
   * createGateway(store, { aws: { credentialHosts: ['*.vpce.amazonaws.com', '127.0.0.1'] } });
   * ```
   */
  credentialHosts?: string[];
}

/**
 * The SDK clients' logger. Without one the SDK prints to `console`: SQS warns on every request
 * whose queue URL's host is not the region's endpoint, with the whole URL (its query and
 * userinfo: the function's secrets), one line per delivery a tenant can cause at will. Its info
 * and debug lines log each request. Nothing the gateway needs is said there: it is dropped.
 */
const QUIET_LOGGER = Object.freeze({
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

/**
 * Most SDK clients kept (one per outbound check, service, region, endpoint and credentials), the
 * least recently used destroyed first. Some 20 KB each: unbounded, a tenant rewriting a
 * function's access key or endpoint would grow the heap for good.
 */
const MAX_CLIENTS = 512;

/** AWS's own endpoints: the only ones the host's default credentials go to unless listed. */
const AWS_HOSTS = ['*.amazonaws.com', '*.amazonaws.com.cn', '*.api.aws'];

/**
 * The SDK clients of the AWS providers: one per (service, region, endpoint, credentials), made on
 * first use and reused, destroyed by `close()`. The SDK's own retries are off (`maxAttempts: 1`):
 * the gateway's dispatcher owns retries and timeouts, so an attempt is one request. Connections go
 * through keep-alive HTTP/1.1 agents checked against the outbound policy at connect time (HTTP/1
 * also because Kinesis's default HTTP/2 handler does not work against local servers).
 */
export class AwsClients {
  /** The clients by outbound check (host, or a tenant space's) and configuration. */
  private readonly clients = new BoundedCache<string, HeldClient>(MAX_CLIENTS, (client) =>
    client.evict(),
  );
  /** A number per outbound check, for the clients' keys. */
  private readonly checkIds = new WeakMap<OutboundCheck, number>();
  private nextCheckId = 0;
  private readonly policies: OutboundPolicies;
  /** Where the host's default credentials may be sent (as an allow list: names and ranges). */
  private readonly credentialHosts: OutboundPolicy;
  private readonly modules = new Map<AwsService, SdkModule>();
  private handlerModule: { NodeHttpHandler: new (options: unknown) => unknown } | undefined;
  private closed = false;

  constructor(private readonly options: AwsClientsOptions) {
    this.policies =
      options.outbound instanceof OutboundPolicies
        ? options.outbound
        : new OutboundPolicies({ outbound: options.outbound });
    const listed = options.credentialHosts ?? [];
    if (!Array.isArray(listed) || !listed.every((h) => typeof h === 'string' && h !== '')) {
      throw new TypeError('aws.credentialHosts must be an array of host names or ranges.');
    }
    this.credentialHosts = new OutboundPolicy({ allow: [...AWS_HOSTS, ...listed] });
  }

  /** The SDK module of a service, loaded on first use; a clear final failure when missing. */
  module(service: AwsService, fn: FunctionRecord): SdkModule {
    let loaded = this.modules.get(service);
    if (!loaded) {
      loaded = load(AWS_PACKAGES[service], fn) as SdkModule;
      this.modules.set(service, loaded);
    }
    return loaded;
  }

  /**
   * The client for a function's configuration (region, endpoint, credentials). A tenant's
   * function (`writer: 'tenant'`) without keys of its own gets none: InvocationError, never
   * retried (the host's role would otherwise act on whatever ARN, queue or stream it names).
   */
  client(service: AwsService, fn: FunctionRecord): SdkClient {
    if (this.closed) {
      throw new InvocationError('The gateway is closing; no AWS call is started.', {
        retryable: false,
      });
    }
    const p = fn.provider;
    const credentials =
      typeof p.awsAccessKeyId === 'string' && typeof p.awsSecretAccessKey === 'string'
        ? {
            accessKeyId: p.awsAccessKeyId,
            secretAccessKey: p.awsSecretAccessKey,
            ...(typeof p.awsSessionToken === 'string' ? { sessionToken: p.awsSessionToken } : {}),
          }
        : undefined;
    if (!credentials && fn.writer === 'tenant') {
      // The tenant chose the ARN, queue or stream: the host's role would act for it there.
      throw new InvocationError(
        `Function "${fn.functionId}" was written by a tenant and has no AWS keys of its own: the host's credentials are never used for a tenant's function. Register it with its own awsAccessKeyId and awsSecretAccessKey.`,
        { retryable: false, resource: 'function', id: fn.functionId, space: fn.space },
      );
    }
    const check = this.policies.forFunction(fn);
    let checkId = this.checkIds.get(check);
    if (checkId === undefined) this.checkIds.set(check, (checkId = this.nextCheckId++));
    // In memory only, never shown: the key tells clients with different credentials apart.
    const key = JSON.stringify([checkId, service, p.region, p.endpoint, credentials]);
    let client = this.clients.get(key);
    if (!client) {
      const Client = this.module(service, fn)[CLIENT_CLASSES[service]];
      const sdk = new Client({
        region: p.region,
        ...(p.endpoint ? { endpoint: p.endpoint } : {}),
        // Without keys: the SDK's default credential chain (environment, profile, role).
        ...(credentials ? { credentials } : {}),
        maxAttempts: 1,
        logger: QUIET_LOGGER,
        requestHandler: this.requestHandler(fn, check),
      }) as SdkClient;
      if (!credentials) this.guardDefaultCredentials(sdk, fn);
      client = this.clients.set(key, new HeldClient(sdk));
    }
    return client;
  }

  /** Destroys every client (their sockets). Idempotent. */
  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  /**
   * Fails a request of a client signed with the host's default credentials before it is signed
   * when it would go anywhere but AWS (or a listed credential host). Checked on the request
   * itself, after the SDK resolved its endpoint, so that every way of choosing the host (an
   * `endpoint`, an SQS queue URL, a region) is covered.
   */
  private guardDefaultCredentials(client: SdkClient, fn: FunctionRecord): void {
    const stack = (client as unknown as { middlewareStack?: MiddlewareStack }).middlewareStack;
    if (!stack) throw new Error('AwsClients: an SDK client without a middleware stack.');
    stack.add(
      (next) => async (args) => {
        const hostname = normalizeHostName(String(args.request?.hostname ?? ''));
        const url = new URL(`https://${hostname.includes(':') ? `[${hostname}]` : hostname}/`);
        if (this.credentialHosts.urlProblem(url) !== undefined) {
          throw new InvocationError(
            `Function "${fn.functionId}" has no AWS keys of its own, and ${hostname} is not an AWS endpoint: the host's credentials are sent only to AWS (and the gateway's aws.credentialHosts). Register the function with its own awsAccessKeyId and awsSecretAccessKey.`,
            { retryable: false, resource: 'function', id: fn.functionId, space: fn.space },
          );
        }
        return next(args);
      },
      { step: 'build', name: 'eventGatewayDefaultCredentialsGuard', priority: 'low' },
    );
  }

  private requestHandler(fn: FunctionRecord, check: OutboundCheck): unknown {
    this.handlerModule ??= load('@smithy/node-http-handler', fn) as typeof this.handlerModule;
    const { NodeHttpHandler } = this.handlerModule as {
      NodeHttpHandler: new (o: unknown) => unknown;
    };
    const agentOptions = { keepAlive: true, maxSockets: this.options.connections ?? 256 };
    // Required here: node:https (and TLS behind it) costs milliseconds to load.
    /* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose */
    const { Agent: HttpAgent } = require('node:http') as typeof import('node:http');
    const { Agent: HttpsAgent } = require('node:https') as typeof import('node:https');
    /* eslint-enable @typescript-eslint/no-require-imports */
    return new NodeHttpHandler({
      httpAgent: guardAgent(new HttpAgent(agentOptions), check),
      httpsAgent: guardAgent(new HttpsAgent(agentOptions), check),
    });
  }
}

/**
 * An SDK client and the requests it has in flight: evicted from the cache (see MAX_CLIENTS), it
 * is destroyed once they have settled, never under them.
 */
class HeldClient implements SdkClient {
  private inFlight = 0;
  private evicted = false;

  constructor(private readonly sdk: SdkClient) {}

  async send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
    this.inFlight++;
    try {
      return await this.sdk.send(command, options);
    } finally {
      if (--this.inFlight === 0 && this.evicted) this.sdk.destroy();
    }
  }

  evict(): void {
    this.evicted = true;
    if (this.inFlight === 0) this.sdk.destroy();
  }

  destroy(): void {
    this.sdk.destroy();
  }
}

/** What the guard uses of a smithy middleware stack. */
interface MiddlewareStack {
  add(
    middleware: (
      next: (args: { request?: { hostname?: string } }) => Promise<unknown>,
    ) => (args: { request?: { hostname?: string } }) => Promise<unknown>,
    options: { step: string; name: string; priority: string },
  ): void;
}

/**
 * An SDK package, or a final InvocationError (what every delivery failure is) whose message and
 * `cause` are the PeerMissingError's: retrying cannot install it.
 */
function load(name: string, fn: FunctionRecord): unknown {
  try {
    return requireOptionalPeer(name, {
      feature: `Function "${fn.functionId}" of type "${fn.type}"`,
    });
  } catch (error) {
    throw new InvocationError(describeError(error), {
      retryable: false,
      cause: error,
      resource: 'function',
      id: fn.functionId,
      space: fn.space,
    });
  }
}
