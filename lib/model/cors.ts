import { Checks, type Metadata } from './checks';
import { pathEscape, routeProblem, type HttpMethod } from './paths';
import { checkMethod } from './subscription';

/** A CORS configuration for one method and path of the Events API. */
export interface CorsRecord {
  readonly space: string;
  /** `METHOD` + escaped path, e.g. `GET%2Fusers`, as Event Gateway 0.9 derived it. */
  readonly corsId: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly allowedOrigins: readonly string[];
  readonly allowedMethods: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly allowCredentials: boolean;
  readonly metadata?: Metadata;
}

/** Arguments of `createCors` and `updateCors`. */
export interface CorsInput {
  /** @default the gateway's `space` option */
  space?: string;
  /** Required by `updateCors` (it names the configuration); derived by `createCors`. */
  corsId?: string;
  method: string;
  path: string;
  /** @default `['*']` */
  allowedOrigins?: string[];
  /** @default `['HEAD', 'GET', 'POST']` */
  allowedMethods?: string[];
  /** @default `['Origin', 'Accept', 'Content-Type']` */
  allowedHeaders?: string[];
  /** @default false */
  allowCredentials?: boolean;
  metadata?: Record<string, string>;
}

const checks: Checks = new Checks('cors');

/** An HTTP token (RFC 9110): what header names and methods are made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** An origin, or an origin pattern with `*` in its host: `scheme://host[:port]`, nothing else. */
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9.*_~!$&'()+,;=%[\]-]+(:\d{1,5})?$/;

function tokens(list: string[], field: string): string[] {
  list.forEach((item, i) => {
    if (!TOKEN.test(item))
      checks.fail(`"${field}[${i}]" must be an HTTP token (got ${JSON.stringify(item)}).`);
  });
  return list;
}

function origins(list: string[]): string[] {
  list.forEach((item, i) => {
    if (item !== '*' && item !== 'null' && (item.length > 1024 || !ORIGIN.test(item))) {
      checks.fail(
        `"allowedOrigins[${i}]" must be "*" or an origin such as https://app.example.com (a "*" may stand for part of the host) (got ${JSON.stringify(item)}).`,
      );
    }
  });
  return list;
}

/** Validates input into a stored record, computing its ID. Throws ValidationError. */
export function toCorsRecord(input: CorsInput, space: string): CorsRecord {
  checks.object(input, 'the CORS configuration');
  checks.onlyFields(
    input as never,
    [
      'space',
      'corsId',
      'method',
      'path',
      'allowedOrigins',
      'allowedMethods',
      'allowedHeaders',
      'allowCredentials',
      'metadata',
    ],
    'a CORS configuration',
  );
  const method = checkMethod(checks, input.method);
  const path = checks.string(input.path, 'path');
  const problem = routeProblem(path);
  if (problem) checks.fail(`"path" ${problem} (got ${JSON.stringify(path)}).`);
  const allowedMethods = tokens(
    checks.stringList(input.allowedMethods, 'allowedMethods', ['HEAD', 'GET', 'POST']),
    'allowedMethods',
  );
  const record: { -readonly [K in keyof CorsRecord]: CorsRecord[K] } = {
    space: checks.space(space),
    corsId: corsId(method, path),
    method,
    path,
    allowedOrigins: origins(checks.stringList(input.allowedOrigins, 'allowedOrigins', ['*'])),
    allowedMethods: allowedMethods.map((m) => m.toUpperCase()),
    allowedHeaders: tokens(
      checks.stringList(input.allowedHeaders, 'allowedHeaders', [
        'Origin',
        'Accept',
        'Content-Type',
      ]),
      'allowedHeaders',
    ),
    allowCredentials: checks.boolean(input.allowCredentials, 'allowCredentials', false),
  };
  const open = record.allowCredentials && record.allowedOrigins.find(admitsAnySite);
  if (open) {
    checks.fail(
      `"allowCredentials" cannot be true with ${JSON.stringify(open)} in "allowedOrigins": any site could then make credentialed requests. List the origins.`,
    );
  }
  const metadata = checks.metadata(input.metadata);
  if (metadata) record.metadata = metadata;
  return record;
}

/**
 * Whether an origin pattern admits sites anyone can set up: `*`, `null` (sent by sandboxed
 * frames and `data:` pages of any site), or a host that is a wildcard with fewer than two literal
 * labels after it (`https://*`, `https://*.com`).
 */
function admitsAnySite(origin: string): boolean {
  if (origin === '*' || origin.toLowerCase() === 'null') return true;
  const host = origin.replace(/^[^:]*:\/\//, '').replace(/:[^:]*$/, '');
  if (!host.includes('*')) return false;
  const afterWildcard = host
    .slice(host.lastIndexOf('*') + 1)
    .split('.')
    .filter(Boolean);
  return afterWildcard.length < 2;
}

/** Event Gateway 0.9's CORS ID: the method followed by the escaped path. */
export function corsId(method: string, path: string): string {
  return method + pathEscape(path);
}
