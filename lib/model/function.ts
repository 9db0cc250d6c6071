import { Checks, MAX_TIMER_MS, type Metadata } from './checks';
import type { OutboundCheck } from './outbound-policy';
import { DEFAULT_RETRY, resolveRetry, type RetryOptions } from './retry-options';

/** The AWS credential fields of a provider configuration: never shown unless asked for. */
export const AWS_SECRET_FIELDS: readonly string[] = ['awsSecretAccessKey', 'awsSessionToken'];

/** The function types the gateway knows. Plug-in providers add more (any string). */
export type FunctionType =
  | 'http'
  | 'local'
  | 'awslambda'
  | 'awskinesis'
  | 'awsfirehose'
  | 'awssqs'
  // `string & {}` admits plug-in types while editors still complete the built-in names.
  | (string & {});

/**
 * What `local` functions run: called with the event, its result is the function's result. Bound
 * on the instance that registered it (the store only says that the function exists).
 */
export type LocalHandler = (event: unknown, context: LocalHandlerContext) => unknown;

/** The second argument of a {@link LocalHandler}. */
export interface LocalHandlerContext {
  readonly space: string;
  readonly functionId: string;
  /** Aborted when the delivery times out or the gateway closes. */
  readonly signal: AbortSignal;
}

/** A function: something events can be delivered to. */
export interface FunctionRecord {
  readonly space: string;
  readonly functionId: string;
  readonly type: FunctionType;
  /** The provider's configuration: `{url, timeout?}` for http, `{arn, region, ...}` for awslambda... */
  readonly provider: Readonly<Record<string, string | number | boolean>>;
  /** Overrides the gateway's retry policy for deliveries to this function. */
  readonly retry?: Readonly<RetryOptions>;
  readonly metadata?: Metadata;
  /**
   * Who wrote the record: `'tenant'` when it came through the Configuration API served with API
   * keys (delivery holds it to the gateway's `tenantOutbound` policy); absent for the host's own code.
   */
  readonly writer?: 'tenant';
}

/** Arguments of `registerFunction` and `updateFunction`. */
export interface FunctionInput {
  /** @default the gateway's `space` option */
  space?: string;
  functionId: string;
  /** @default `'local'` when `handler` is given */
  type?: FunctionType;
  /** The provider's configuration; omitted for `local` functions. */
  provider?: Record<string, unknown>;
  /** The handler of a `local` function. Not stored: bound on this instance only. */
  handler?: LocalHandler;
  /** Overrides the gateway's retry policy for deliveries to this function. */
  retry?: RetryOptions;
  metadata?: Record<string, string>;
}

/** Validates the `provider` configuration of a plug-in function type; throws on a bad one. */
export type ProviderValidator = (
  config: Record<string, unknown>,
) => Record<string, string | number | boolean>;

interface ProviderSchema {
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

/**
 * Optional fields of every AWS type: 0.9's credentials, plus `endpoint` (a local or private
 * endpoint) and `timeout`.
 */
const AWS_OPTIONAL = ['awsAccessKeyId', ...AWS_SECRET_FIELDS, 'endpoint', 'timeout'];

/** Provider fields per type, as Event Gateway 0.9 defined them (plus `timeout`, `endpoint`...). */
const PROVIDERS: Record<string, ProviderSchema> = {
  http: { required: ['url'], optional: ['timeout'] },
  local: { required: [], optional: [] },
  awslambda: { required: ['arn', 'region'], optional: AWS_OPTIONAL },
  awskinesis: {
    required: ['streamName', 'region'],
    // The event attribute whose value is the partition key (default `id`).
    optional: [...AWS_OPTIONAL, 'partitionKeyAttribute'],
  },
  awsfirehose: { required: ['deliveryStreamName', 'region'], optional: AWS_OPTIONAL },
  awssqs: {
    required: ['queueUrl', 'region'],
    // FIFO queues: the event attribute whose value is the message group (default `source`).
    optional: [...AWS_OPTIONAL, 'messageGroupAttribute'],
  },
};

/** The function types this version can validate. */
export const FUNCTION_TYPES: readonly string[] = Object.keys(PROVIDERS);

const checks: Checks = new Checks('function');

/**
 * Validates input into a stored record (without the handler). `plugins` are the validators of
 * plug-in provider types (they take precedence over a built-in schema). Throws ValidationError.
 */
export function toFunctionRecord(
  input: FunctionInput,
  space: string,
  plugins: ReadonlyMap<string, ProviderValidator | undefined> = new Map(),
  outbound?: OutboundCheck,
): FunctionRecord {
  checks.object(input, 'the function');
  checks.onlyFields(
    input as never,
    // `writer` is accepted and ignored: a record read back (GET then PUT) carries it, and who
    // wrote a record is decided by the write's own options, never by its body.
    ['space', 'functionId', 'type', 'provider', 'handler', 'retry', 'metadata', 'writer'],
    'a function',
  );
  const functionId = checks.identifier(input.functionId, 'functionId');
  const type = input.type ?? (input.handler !== undefined ? 'local' : undefined);
  if (type === undefined) {
    checks.fail(
      `"type" is required (one of ${[...FUNCTION_TYPES, ...plugins.keys()].join(', ')}).`,
    );
  }
  if (typeof type !== 'string' || (!Object.hasOwn(PROVIDERS, type) && !plugins.has(type))) {
    checks.fail(`provider "${String(type)}" not supported.`);
  }
  if (type === 'local') {
    if (typeof input.handler !== 'function') {
      checks.fail(`a "local" function needs a "handler" function.`);
    }
  } else if (input.handler !== undefined) {
    checks.fail(`"handler" is only for "local" functions (this one is "${type}").`);
  }
  const plugin = plugins.get(type);
  const provider = plugin
    ? validateWithPlugin(type, plugin, input.provider)
    : validateProvider(type, PROVIDERS[type], input.provider, outbound);
  const record: { -readonly [K in keyof FunctionRecord]: FunctionRecord[K] } = {
    space: checks.space(space),
    functionId,
    type,
    provider,
  };
  if (input.retry !== undefined) {
    resolveRetry(input.retry, DEFAULT_RETRY, (detail) => checks.fail(detail));
    record.retry = { ...input.retry };
  }
  const metadata = checks.metadata(input.metadata);
  if (metadata) record.metadata = metadata;
  return record;
}

function validateWithPlugin(
  type: string,
  validate: ProviderValidator,
  value: unknown,
): Record<string, string | number | boolean> {
  const config =
    value === undefined ? {} : checks.object(value, `"provider" of a "${type}" function`);
  try {
    return validate(config);
  } catch (error) {
    checks.fail(`the "${type}" provider refused its configuration: ${(error as Error).message}`);
  }
}

function validateProvider(
  type: string,
  schema: ProviderSchema,
  value: unknown,
  outbound: OutboundCheck | undefined,
): Record<string, string | number> {
  if (value === undefined && schema.required.length === 0) return {};
  const provider = checks.object(value, `"provider" of a "${type}" function`);
  checks.onlyFields(provider, [...schema.required, ...schema.optional], `the "${type}" provider`);
  const out: Record<string, string | number> = {};
  for (const field of schema.required)
    out[field] = checks.string(provider[field], `provider.${field}`);
  for (const field of schema.optional) {
    if (provider[field] === undefined) continue;
    out[field] =
      field === 'timeout'
        ? (checks.positiveInteger(provider[field], 'provider.timeout', MAX_TIMER_MS) as number)
        : checks.string(provider[field], `provider.${field}`);
  }
  if (type === 'http') checkHttpUrl(out.url as string, 'provider.url', outbound);
  // The SDK sends to a queue URL's host: it is an outbound address like an http function's.
  if (type === 'awssqs') checkHttpUrl(out.queueUrl as string, 'provider.queueUrl', outbound);
  if (out.endpoint !== undefined) {
    checkHttpUrl(out.endpoint as string, 'provider.endpoint', outbound);
  }
  const credentials = ['awsAccessKeyId', 'awsSecretAccessKey'].filter((f) => out[f] !== undefined);
  if (credentials.length === 1) {
    checks.fail(`"provider.awsAccessKeyId" and "provider.awsSecretAccessKey" go together.`);
  }
  return out;
}

function checkHttpUrl(value: string, field: string, outbound?: OutboundCheck): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not quoted back: a value that is no URL may still hold a password or a token.
    checks.fail(`"${field}" must be an absolute URL such as "https://host/path".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    checks.fail(`"${field}" must be an http: or https: URL.`);
  }
  const problem = outbound?.urlProblem(url);
  if (problem) checks.fail(`"${field}" is refused: ${problem}.`);
}
