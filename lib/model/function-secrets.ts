import { AWS_SECRET_FIELDS } from './function';

export { AWS_SECRET_FIELDS };

/**
 * The fields whose whole value is a secret: the AWS ones, and a Kafka connection's SASL password
 * (no function has such a field: masked by the same rules as the AWS secrets).
 */
export const SECRET_FIELDS: readonly string[] = [...AWS_SECRET_FIELDS, 'saslPassword'];

/**
 * What these helpers mask: a function record, or anything shaped like one (a connection's source
 * options seen as `{ type, provider }`), so that every secret is masked by the same rules.
 */
export interface SecretHolder {
  readonly type: string;
  readonly provider: Readonly<Record<string, string | number | boolean>>;
}

/**
 * What a secret reads as in records returned without `secrets: true`: a whole AWS secret, or the
 * userinfo, query or fragment of a function URL. Given back to `updateFunction`, it keeps the
 * stored secret as long as where the function points is unchanged.
 */
export const SECRET_MASK = '[redacted]';

/**
 * Provider fields holding a URL (an http function's, an SQS queue's, an AWS endpoint): their
 * userinfo (`user:password@`), query and fragment are secrets; scheme, host, port and path are not.
 */
export const URL_FIELDS: readonly string[] = ['url', 'queueUrl', 'endpoint'];

/** Provider fields that change how a delivery is made, never where it goes. */
const NOT_DESTINATION: ReadonlySet<string> = new Set([
  'timeout',
  'partitionKeyAttribute',
  'messageGroupAttribute',
]);

/** The secret parts of a URL. */
type UrlPart = 'userinfo' | 'query' | 'fragment';
const URL_PARTS: readonly UrlPart[] = ['userinfo', 'query', 'fragment'];

/** One secret of a record: a whole AWS field, or one part of a URL field. */
export interface FunctionSecret {
  readonly field: string;
  readonly part?: UrlPart;
}

/** A secret as messages name it: `"provider.awsSessionToken"`, `the query of "provider.url"`. */
export function secretLabel({ field, part }: FunctionSecret, holder = 'provider'): string {
  return part ? `the ${part} of "${holder}.${field}"` : `"${holder}.${field}"`;
}

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A part as the parsed URL holds it, `''` when absent. */
function partOf(url: URL, part: UrlPart): string {
  if (part === 'query') return url.search.slice(1);
  if (part === 'fragment') return url.hash.slice(1);
  return url.username || url.password ? `${url.username}:${url.password}` : '';
}

function isMaskedPart(url: URL, part: UrlPart): boolean {
  if (part === 'userinfo') return url.password === '' && decoded(url.username) === SECRET_MASK;
  return decoded(partOf(url, part)) === SECRET_MASK;
}

/** `https://` (a URL with an authority) or `mailto:` (one without). */
function schemePrefix(url: URL): string {
  return url.href.startsWith(`${url.protocol}//`) ? `${url.protocol}//` : url.protocol;
}

/** Where a URL points: scheme, host, port and path, without its secret parts. */
function visibleUrl(url: URL): string {
  return schemePrefix(url) + url.host + url.pathname;
}

/** The URL with each secret part present replaced by the mask (normalised: one line, no controls). */
function maskUrl(url: URL): string {
  const has = (part: UrlPart) => partOf(url, part) !== '';
  return (
    schemePrefix(url) +
    (has('userinfo') ? `${SECRET_MASK}@` : '') +
    url.host +
    url.pathname +
    (has('query') ? `?${SECRET_MASK}` : '') +
    (has('fragment') ? `#${SECRET_MASK}` : '')
  );
}

/**
 * A URL as it may appear in messages, logs and records read without secrets: its userinfo, query
 * and fragment read `[redacted]`. Undefined when the value is not a URL.
 */
export function maskedUrl(value: string): string | undefined {
  const url = parseUrl(value);
  return url && maskUrl(url);
}

/** The value of a provider field as shown without secrets. */
function maskedValue(field: string, value: string | number | boolean): string | number | boolean {
  if (SECRET_FIELDS.includes(field)) return SECRET_MASK;
  // No `@`, `?` or `#`: no userinfo, query or fragment (and no URL to parse).
  if (!URL_FIELDS.includes(field) || !/[@?#]/.test(String(value))) return value;
  const url = parseUrl(value);
  // A URL without secret parts is shown as written.
  return url && URL_PARTS.some((part) => partOf(url, part) !== '') ? maskUrl(url) : value;
}

/** Masked copies of frozen records (the catalog's): a list masks each record once. */
const maskedRecords = new WeakMap<SecretHolder, SecretHolder>();

/** The record with its secrets masked (the same record when it has none). */
export function withoutSecrets<T extends SecretHolder>(record: T): T {
  const cached = maskedRecords.get(record) as T | undefined;
  if (cached) return cached;
  let provider: Record<string, string | number | boolean> | undefined;
  for (const field of [...SECRET_FIELDS, ...URL_FIELDS]) {
    const value = record.provider[field];
    if (value === undefined) continue;
    const masked = maskedValue(field, value);
    if (masked !== value) (provider ??= { ...record.provider })[field] = masked;
  }
  const out = provider ? Object.freeze({ ...record, provider: Object.freeze(provider) }) : record;
  if (Object.isFrozen(record) && Object.isFrozen(record.provider)) maskedRecords.set(record, out);
  return out;
}

/** Whether the record holds that secret (a value that is not itself the mask). */
function holds(record: SecretHolder, secret: FunctionSecret): boolean {
  const value = record.provider[secret.field];
  if (!secret.part) return value !== undefined && value !== SECRET_MASK;
  const url = parseUrl(value);
  return url !== undefined && partOf(url, secret.part) !== '' && !isMaskedPart(url, secret.part);
}

/** The secrets a record (an update's input) gives as the mask: those it asks to keep. */
export function maskedSecrets(record: SecretHolder): FunctionSecret[] {
  const out: FunctionSecret[] = [];
  for (const field of SECRET_FIELDS) {
    if (record.provider[field] === SECRET_MASK) out.push({ field });
  }
  for (const field of URL_FIELDS) {
    const url = parseUrl(record.provider[field]);
    for (const part of url ? URL_PARTS : []) {
      if (isMaskedPart(url as URL, part)) out.push({ field, part });
    }
  }
  return out;
}

/** The first of `secrets` that `stored` does not hold (no stored record holds none). */
export function missingSecret(
  secrets: readonly FunctionSecret[],
  stored: SecretHolder | undefined,
): FunctionSecret | undefined {
  return secrets.find((secret) => !stored || !holds(stored, secret));
}

/** What says where a function points: its type and every provider field but secrets and tuning. */
function destination(record: SecretHolder): Map<string, string> {
  const out = new Map([['type', record.type]]);
  for (const [field, value] of Object.entries(record.provider)) {
    if (SECRET_FIELDS.includes(field) || NOT_DESTINATION.has(field)) continue;
    const url = URL_FIELDS.includes(field) ? parseUrl(value) : undefined;
    out.set(`provider.${field}`, url ? visibleUrl(url) : JSON.stringify(value));
  }
  return out;
}

/**
 * The fields that say where a function points and differ between two records (`type`,
 * `provider.endpoint`, ...): a URL compared without its secret parts.
 */
export function destinationChanges(given: SecretHolder, stored: SecretHolder): string[] {
  const [a, b] = [destination(given), destination(stored)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((name) => a.get(name) !== b.get(name));
}

/** `given` with each of its masked `secrets` replaced by the one `stored` holds. */
export function withStoredSecrets<T extends SecretHolder>(
  given: T,
  stored: SecretHolder,
  secrets: readonly FunctionSecret[],
): T {
  const provider = { ...given.provider };
  for (const { field, part } of secrets) {
    if (!part) {
      provider[field] = stored.provider[field];
      continue;
    }
    const url = new URL(String(provider[field]));
    const from = new URL(String(stored.provider[field]));
    if (part === 'userinfo') [url.username, url.password] = [from.username, from.password];
    else if (part === 'query') url.search = from.search;
    else url.hash = from.hash;
    // Everything kept: the stored URL as it was written.
    provider[field] = url.href === from.href ? stored.provider[field] : url.href;
  }
  return { ...given, provider };
}

/**
 * The secret values of a record as they could be echoed in a text: AWS secrets, and for each URL
 * its userinfo (as written, decoded, and as the Basic token sent), password, query string and
 * query values, and fragment. Values shorter than 4 characters are left out (hiding them would
 * garble any text).
 */
export function secretValues(record: SecretHolder): string[] {
  const out = new Set<string>();
  for (const field of SECRET_FIELDS) {
    if (typeof record.provider[field] === 'string') out.add(record.provider[field] as string);
  }
  for (const field of URL_FIELDS) {
    const url = parseUrl(record.provider[field]);
    if (!url) continue;
    const userinfo = partOf(url, 'userinfo');
    if (userinfo) {
      const plain = `${decoded(url.username)}:${decoded(url.password)}`;
      out.add(userinfo).add(plain).add(Buffer.from(plain).toString('base64'));
      out.add(url.password).add(decoded(url.password));
    }
    const query = partOf(url, 'query');
    out.add(query).add(decoded(query)).add(partOf(url, 'fragment'));
    for (const value of url.searchParams.values()) out.add(value);
  }
  return [...out].filter((value) => value.length >= 4 && value !== SECRET_MASK);
}

/**
 * A text (a function's answer, an SDK's message) with the record's secret values masked; cut to
 * its first `maxLength` characters when given (a secret the cut would halve is masked first).
 */
export function hideSecrets(text: string, record: SecretHolder, maxLength = Infinity): string {
  const secrets = secretValues(record).sort((a, b) => b.length - a.length);
  let out = text.length > maxLength ? text.slice(0, maxLength + (secrets[0]?.length ?? 0)) : text;
  for (const secret of secrets) out = out.split(secret).join(SECRET_MASK);
  return out.length > maxLength ? out.slice(0, maxLength) : out;
}

/**
 * A URL as it may appear in messages and logs: its userinfo, query string and fragment read
 * `[redacted]` (as in function records read without secrets); scheme, host, port and path show.
 * @example
 * ```ts
 * redactUrl('https://user:pass@host/hook?token=x'); // 'https://[redacted]@host/hook?[redacted]'
 * ```
 */
export function redactUrl(value: string): string {
  return maskedUrl(value) ?? '(an invalid URL)';
}

/**
 * Secrets given back as the mask (from a record read without secrets) keep the stored ones, but
 * only where the record still points where it did: a secret never follows a new host, endpoint,
 * queue, region or type. Anything else calls `fail` with the reason (a ValidationError's detail).
 * @example
 * ```ts
 * keepStoredSecrets(given, stored, 'the function', (detail) => checks.fail(detail));
 * // `holder` names the fields in messages: "source.awsSecretAccessKey" for a connection.
 * ```
 */
export function keepStoredSecrets<T extends SecretHolder>(
  given: T,
  stored: SecretHolder | undefined,
  what: string,
  fail: (detail: string) => never,
  holder = 'provider',
): T {
  const masked = maskedSecrets(given);
  if (masked.length === 0) return given;
  const refuse = (secret: FunctionSecret, why: string): never =>
    fail(`${secretLabel(secret, holder)} is "${SECRET_MASK}", but ${why}.`);
  const missing = missingSecret(masked, stored);
  if (missing || !stored) return refuse(missing ?? masked[0], 'no such secret is stored to keep');
  const changed = destinationChanges(given, stored).map((name) =>
    name.startsWith('provider.') ? `${holder}.${name.slice('provider.'.length)}` : name,
  );
  if (changed.length > 0) {
    return refuse(
      masked[0],
      `where ${what} points changed (${changed.join(', ')}): the secret must be sent again`,
    );
  }
  return withStoredSecrets(given, stored, masked);
}
