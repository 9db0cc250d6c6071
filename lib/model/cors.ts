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
  const allowedMethods = checks.stringList(input.allowedMethods, 'allowedMethods', [
    'HEAD',
    'GET',
    'POST',
  ]);
  const record: { -readonly [K in keyof CorsRecord]: CorsRecord[K] } = {
    space: checks.space(space),
    corsId: corsId(method, path),
    method,
    path,
    allowedOrigins: checks.stringList(input.allowedOrigins, 'allowedOrigins', ['*']),
    allowedMethods: allowedMethods.map((m) => m.toUpperCase()),
    allowedHeaders: checks.stringList(input.allowedHeaders, 'allowedHeaders', [
      'Origin',
      'Accept',
      'Content-Type',
    ]),
    allowCredentials: checks.boolean(input.allowCredentials, 'allowCredentials', false),
  };
  const metadata = checks.metadata(input.metadata);
  if (metadata) record.metadata = metadata;
  return record;
}

/** Event Gateway 0.9's CORS ID: the method followed by the escaped path. */
export function corsId(method: string, path: string): string {
  return method + pathEscape(path);
}
