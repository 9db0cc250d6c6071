import { InvocationError } from '../../../errors';
import type { FunctionRecord } from '../../../model/function';
import type { OutboundPolicy } from '../../../model/outbound-policy';
import { guardedLookup } from '../guarded-lookup';

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
  /** Where AWS endpoints may be reached (a provider's `endpoint`, a queue URL's host). */
  readonly outbound: OutboundPolicy;
  /** Most connections per client. @default 256 */
  readonly connections?: number;
}

/**
 * The SDK clients of the AWS providers: one per (service, region, endpoint, credentials), made on
 * first use and reused, destroyed by `close()`. The SDK's own retries are off (`maxAttempts: 1`):
 * the gateway's dispatcher owns retries and timeouts, so an attempt is one request. Connections go
 * through keep-alive HTTP/1.1 agents checked against the outbound policy at connect time (HTTP/1
 * also because Kinesis's default HTTP/2 handler does not work against local servers).
 */
export class AwsClients {
  private readonly clients = new Map<string, SdkClient>();
  private readonly modules = new Map<AwsService, SdkModule>();
  private handlerModule: { NodeHttpHandler: new (options: unknown) => unknown } | undefined;
  private closed = false;

  constructor(private readonly options: AwsClientsOptions) {}

  /** The SDK module of a service, loaded on first use; a clear final failure when missing. */
  module(service: AwsService, fn: FunctionRecord): SdkModule {
    let loaded = this.modules.get(service);
    if (!loaded) {
      loaded = load(AWS_PACKAGES[service], fn) as SdkModule;
      this.modules.set(service, loaded);
    }
    return loaded;
  }

  /** The client for a function's configuration (region, endpoint, credentials). */
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
    // In memory only, never shown: the key tells clients with different credentials apart.
    const key = JSON.stringify([service, p.region, p.endpoint, credentials]);
    let client = this.clients.get(key);
    if (!client) {
      const Client = this.module(service, fn)[CLIENT_CLASSES[service]];
      client = new Client({
        region: p.region,
        ...(p.endpoint ? { endpoint: p.endpoint } : {}),
        // Without keys: the SDK's default credential chain (environment, profile, role).
        ...(credentials ? { credentials } : {}),
        maxAttempts: 1,
        requestHandler: this.requestHandler(fn),
      }) as SdkClient;
      this.clients.set(key, client);
    }
    return client;
  }

  /** Destroys every client (their sockets). Idempotent. */
  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private requestHandler(fn: FunctionRecord): unknown {
    this.handlerModule ??= load('@smithy/node-http-handler', fn) as typeof this.handlerModule;
    const { NodeHttpHandler } = this.handlerModule as {
      NodeHttpHandler: new (o: unknown) => unknown;
    };
    const agentOptions = {
      keepAlive: true,
      maxSockets: this.options.connections ?? 256,
      lookup: guardedLookup(this.options.outbound),
    };
    // Required here: node:https (and TLS behind it) costs milliseconds to load.
    /* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose */
    const { Agent: HttpAgent } = require('node:http') as typeof import('node:http');
    const { Agent: HttpsAgent } = require('node:https') as typeof import('node:https');
    /* eslint-enable @typescript-eslint/no-require-imports */
    return new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    });
  }
}

function load(name: string, fn: FunctionRecord): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
    return require(name);
  } catch (error) {
    throw new InvocationError(
      `Function "${fn.functionId}" is of type "${fn.type}", which needs the package ${name}: npm install ${name}.`,
      { retryable: false, cause: error, resource: 'function', id: fn.functionId, space: fn.space },
    );
  }
}
