import { Checks, MAX_TIMER_MS, type Metadata } from './checks';
import { AWS_SECRET_FIELDS } from './function';
import { withoutSecrets, type SecretHolder } from './function-secrets';
import type { OutboundCheck } from './outbound-policy';
import { RESERVED_PREFIX } from './system-events';

/** The sources a connection can pull from. */
export type SourceType = 'schedule' | 'kafka' | 'awssqs' | 'awskinesis' | 'amqp';

/** A source's options as stored: flat, like a function's provider configuration. */
export type SourceOptions = Readonly<Record<string, string | number | boolean>>;

/** What happens to a message whose event the gateway refused (besides being counted). */
export interface DeadLetterSettings {
  /** A function that receives each refused message as a `connection.refused` event. */
  readonly functionId?: string;
}

/**
 * A connection: a source (a schedule, a Kafka topic, an SQS queue, a Kinesis stream, an AMQP
 * queue) whose messages become events of this space. Its fields are the Event Gateway
 * Connector's (`space`, `connectionId`, `type`, `source`) plus how messages become events.
 */
export interface ConnectionRecord {
  readonly space: string;
  readonly connectionId: string;
  /** The source type. */
  readonly type: SourceType;
  /** The source's options: `{ cron }` for a schedule, `{ brokers, topic }` for Kafka... */
  readonly source: SourceOptions;
  /** The type of the events its messages become (each message's data wrapped). */
  readonly eventType?: string;
  /** True when each message is a structured CloudEvent, taken as it is. */
  readonly cloudEvents?: true;
  /** Where refused messages go besides the count and the `connection.refused` system event. */
  readonly deadLetter?: DeadLetterSettings;
  /**
   * The most messages in flight (taken and not yet acknowledged) at once: past it the source is
   * paused, never buffered without bound.
   * @default 64
   */
  readonly maxInFlight?: number;
  readonly metadata?: Metadata;
  /** `'tenant'` when written through the Configuration API served with API keys. */
  readonly writer?: 'tenant';
}

/** Arguments of `createConnection` and `updateConnection`. */
export interface ConnectionInput {
  /** @default the gateway's `space` option */
  space?: string;
  /** @default a random UUID (on create) */
  connectionId?: string;
  type: SourceType;
  source?: Record<string, unknown>;
  eventType?: string;
  cloudEvents?: boolean;
  deadLetter?: DeadLetterSettings;
  maxInFlight?: number;
  metadata?: Record<string, string>;
}

/** The default of {@link ConnectionRecord.maxInFlight}. */
export const DEFAULT_MAX_IN_FLIGHT = 64;

/** The highest {@link ConnectionRecord.maxInFlight}: in-flight messages are held in memory. */
export const MAX_IN_FLIGHT = 10_000;

type FieldKind = 'string' | 'url' | 'brokers' | 'boolean' | 'integer';

interface SourceSchema {
  readonly required: Readonly<Record<string, FieldKind>>;
  readonly optional: Readonly<Record<string, FieldKind>>;
}

const AWS_OPTIONAL: Record<string, FieldKind> = {
  awsAccessKeyId: 'string',
  ...Object.fromEntries(AWS_SECRET_FIELDS.map((field) => [field, 'string' as const])),
  endpoint: 'url',
};

/** Options per source type. URLs (`queueUrl`, `endpoint`, `url`) mask like function URLs. */
const SOURCES: Readonly<Record<SourceType, SourceSchema>> = {
  schedule: { required: { cron: 'string' }, optional: { timezone: 'string' } },
  kafka: {
    required: { brokers: 'brokers', topic: 'string' },
    optional: {
      groupId: 'string',
      fromBeginning: 'boolean',
      ssl: 'boolean',
      saslMechanism: 'string',
      saslUsername: 'string',
      saslPassword: 'string',
    },
  },
  awssqs: {
    required: { queueUrl: 'url', region: 'string' },
    optional: { ...AWS_OPTIONAL, visibilityTimeout: 'integer', waitTimeSeconds: 'integer' },
  },
  awskinesis: { required: { streamName: 'string', region: 'string' }, optional: AWS_OPTIONAL },
  amqp: { required: { url: 'url', queue: 'string' }, optional: {} },
};

/** The source types this version can run. */
export const SOURCE_TYPES: readonly SourceType[] = Object.keys(SOURCES) as SourceType[];

const FIELDS = [
  'space',
  'connectionId',
  'type',
  'source',
  'eventType',
  'cloudEvents',
  'deadLetter',
  'maxInFlight',
  'metadata',
  // Accepted and ignored, as for functions: who wrote a record is the write's own option.
  'writer',
];

const checks: Checks = new Checks('connection');

/**
 * Validates input into a stored record. `outbound` checks every address the source connects to
 * (brokers, queue URLs, endpoints), as function URLs are checked. Throws ValidationError.
 * @example
 * ```ts
 * toConnectionRecord({ connectionId: 'tick', type: 'schedule', source: { cron: '* * * * *' },
 *   eventType: 'tick' }, 'default');
 * ```
 */
export function toConnectionRecord(
  input: ConnectionInput,
  space: string,
  outbound?: OutboundCheck,
): ConnectionRecord {
  checks.object(input, 'the connection');
  checks.onlyFields(input as never, FIELDS, 'a connection');
  const type = input.type;
  if (typeof type !== 'string' || !Object.hasOwn(SOURCES, type)) {
    checks.fail(`"type" must be one of ${SOURCE_TYPES.join(', ')} (got ${JSON.stringify(type)}).`);
  }
  const record: { -readonly [K in keyof ConnectionRecord]: ConnectionRecord[K] } = {
    space: checks.space(space),
    connectionId: checks.identifier(input.connectionId, 'connectionId'),
    type,
    source: sourceOptions(type, input.source, outbound),
  };
  const cloudEvents = checks.boolean(input.cloudEvents, 'cloudEvents', false);
  if (cloudEvents === (input.eventType !== undefined)) {
    checks.fail(`give either "eventType" (messages wrapped as its data) or "cloudEvents": true.`);
  }
  if (cloudEvents) record.cloudEvents = true;
  else record.eventType = eventTypeName(input.eventType);
  if (input.deadLetter !== undefined) {
    const deadLetter = checks.object(input.deadLetter, '"deadLetter"');
    checks.onlyFields(deadLetter, ['functionId'], '"deadLetter"');
    record.deadLetter =
      deadLetter.functionId === undefined
        ? {}
        : { functionId: checks.identifier(deadLetter.functionId, 'deadLetter.functionId') };
  }
  const maxInFlight = checks.positiveInteger(input.maxInFlight, 'maxInFlight', MAX_IN_FLIGHT);
  if (maxInFlight !== undefined) record.maxInFlight = maxInFlight;
  const metadata = checks.metadata(input.metadata);
  if (metadata) record.metadata = metadata;
  return record;
}

function eventTypeName(value: unknown): string {
  const name = checks.identifier(value, 'eventType');
  // Only the gateway emits its own types: a source naming one would forge system events.
  if (name.startsWith(RESERVED_PREFIX)) {
    checks.fail(`"eventType" cannot start with "${RESERVED_PREFIX}" (reserved for the gateway).`);
  }
  return name;
}

function sourceOptions(type: SourceType, value: unknown, outbound?: OutboundCheck): SourceOptions {
  const schema = SOURCES[type];
  const given = checks.object(value ?? {}, `"source" of a "${type}" connection`);
  const allowed = [...Object.keys(schema.required), ...Object.keys(schema.optional)];
  checks.onlyFields(given, allowed, `the "${type}" source`);
  const out: Record<string, string | number | boolean> = {};
  for (const [field, kind] of Object.entries(schema.required)) {
    out[field] = fieldValue(kind, given[field], `source.${field}`, outbound);
  }
  for (const [field, kind] of Object.entries(schema.optional)) {
    if (given[field] !== undefined) {
      out[field] = fieldValue(kind, given[field], `source.${field}`, outbound);
    }
  }
  const credentials = ['awsAccessKeyId', 'awsSecretAccessKey'].filter((f) => out[f] !== undefined);
  if (credentials.length === 1) {
    checks.fail(`"source.awsAccessKeyId" and "source.awsSecretAccessKey" go together.`);
  }
  if (type === 'schedule') {
    cronFields(out.cron as string);
    if (out.timezone !== undefined) timeZone(out.timezone as string);
  }
  if (type === 'kafka') saslFields(out);
  return out;
}

/** The SASL mechanisms a Kafka connection may authenticate with (kafkajs's names). */
/**
 * The consumer group of a Kafka connection that names none: where its offsets live, and the
 * members brokers share the topic's partitions among.
 * @example
 * ```ts
 * defaultKafkaGroup('acme', 'orders'); // 'event-gateway.acme.orders'
 * ```
 */
export function defaultKafkaGroup(space: string, connectionId: string): string {
  return `event-gateway.${space}.${connectionId}`;
}

export const KAFKA_SASL_MECHANISMS: readonly string[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

/** A Kafka connection's SASL options: a known mechanism, with a username and a password. */
function saslFields(out: Record<string, string | number | boolean>): void {
  const given = ['saslMechanism', 'saslUsername', 'saslPassword'].filter((f) => f in out);
  if (given.length === 0) return;
  if (given.length < 3) {
    checks.fail(
      `"source.saslMechanism", "source.saslUsername" and "source.saslPassword" go together.`,
    );
  }
  if (!KAFKA_SASL_MECHANISMS.includes(out.saslMechanism as string)) {
    checks.fail(`"source.saslMechanism" must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}.`);
  }
}

function fieldValue(
  kind: FieldKind,
  value: unknown,
  field: string,
  outbound: OutboundCheck | undefined,
): string | number | boolean {
  if (kind === 'boolean') return checks.boolean(value, field, false);
  if (kind === 'integer') return checks.positiveInteger(value, field, MAX_TIMER_MS) as number;
  const text = checks.string(value, field);
  if (text.length > 2048) checks.fail(`"${field}" must be at most 2048 characters long.`);
  if (kind === 'url') checkUrl(text, field, outbound);
  if (kind === 'brokers') {
    for (const broker of text.split(',')) checkUrl(`http://${broker.trim()}`, field, outbound);
  }
  return text;
}

/** Every address a source connects to is held to the writer's outbound policy. */
function checkUrl(value: string, field: string, outbound: OutboundCheck | undefined): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not quoted back: a value that is no URL may still hold a password.
    return checks.fail(`"${field}" must be an absolute URL (or "host:port" for brokers).`);
  }
  if (!['http:', 'https:', 'amqp:', 'amqps:'].includes(url.protocol)) {
    checks.fail(`"${field}" must be an http:, https:, amqp: or amqps: URL.`);
  }
  // The policy speaks of http(s) URLs: where it points is the same for amqp.
  const asHttp = new URL(url.href.replace(/^amqps?:/, 'http:'));
  const problem = outbound?.urlProblem(asHttp);
  if (problem) checks.fail(`"${field}" is refused: ${problem}.`);
}

/**
 * A cron expression's shape: 5 fields (minute to weekday) or 6 (seconds first). The schedule
 * source parses it fully when it starts; this refuses the obvious mistakes at write time.
 */
function cronFields(cron: string): void {
  const fields = cron.trim().split(/\s+/);
  if (cron.length > 256 || fields.length < 5 || fields.length > 6) {
    checks.fail(`"source.cron" must be a cron expression of 5 or 6 fields (got ${fields.length}).`);
  }
  for (const field of fields) {
    if (!/^[0-9A-Za-z*?/,\-LW#]+$/.test(field)) {
      checks.fail(`"source.cron" has an invalid field ${JSON.stringify(field.slice(0, 32))}.`);
    }
  }
}

/**
 * An IANA time zone this runtime knows (`Europe/Paris`, `UTC`): another one would fail the
 * schedule at every start, retried without end, instead of at write time.
 */
function timeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    checks.fail(`"source.timezone" must be an IANA time zone, e.g. "Europe/Paris" or "UTC".`);
  }
}

/** A connection's source seen as a provider configuration, for the shared secret helpers. */
export function sourceHolder(record: ConnectionRecord): SecretHolder {
  return { type: record.type, provider: record.source };
}

/**
 * The record with its secrets masked as function secrets are (AWS secrets; the userinfo, query
 * and fragment of `queueUrl`, `endpoint` and an AMQP `url`); the same record when it has none.
 * @example
 * ```ts
 * connectionWithoutSecrets(record).source.url; // 'amqp://[redacted]@broker:5672/'
 * ```
 */
export function connectionWithoutSecrets(record: ConnectionRecord): ConnectionRecord {
  const masked = withoutSecrets(sourceHolder(record)).provider;
  return masked === record.source ? record : Object.freeze({ ...record, source: masked });
}
