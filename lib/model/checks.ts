import { ValidationError, type ResourceKind } from '../errors';

/** Free-form string labels on a resource, used to filter lists. */
export type Metadata = Readonly<Record<string, string>>;

const NOUN: Record<ResourceKind, string> = {
  event: 'CloudEvent',
  eventType: 'Event Type',
  function: 'Function',
  subscription: 'Subscription',
  cors: 'CORS configuration',
  connection: 'Connection',
};

/** The longest timeout or delay a timer can take (larger ones overflow to 1 ms in Node.js). */
export const MAX_TIMER_MS = 2_147_483_647;

/** The longest identifier (space, function ID, event type name, event `id` and `type`). */
export const MAX_NAME_LENGTH = 256;

/** The identifier rule of Event Gateway 0.9 for spaces, function IDs and event type names. */
export const IDENTIFIER = /^[a-zA-Z0-9.\-_]+$/;

/** The space rule: an identifier of 3 to 256 characters (Event Gateway 0.9's, bounded). */
export function isValidSpace(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 3 &&
    value.length <= MAX_NAME_LENGTH &&
    IDENTIFIER.test(value)
  );
}

/** Event Gateway 0.9's message: `<Noun> doesn't validate. Validation error: <detail>`. */
export function validationError(resource: ResourceKind, detail: string): ValidationError {
  return new ValidationError(`${NOUN[resource]} doesn't validate. Validation error: ${detail}`, {
    resource,
  });
}

/**
 * Field checks for one resource kind: each returns the normalised value or throws a
 * ValidationError whose message names the field.
 */
export class Checks {
  constructor(readonly resource: ResourceKind) {}

  fail(detail: string): never {
    throw validationError(this.resource, detail);
  }

  object(value: unknown, what: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(`${what} must be an object.`);
    }
    return value as Record<string, unknown>;
  }

  /** Rejects fields the resource does not have: a typo must not pass silently. */
  onlyFields(value: Record<string, unknown>, allowed: readonly string[], what: string): void {
    for (const field of Object.keys(value)) {
      if (!allowed.includes(field) && value[field] !== undefined) {
        this.fail(`unknown field "${field}" in ${what} (allowed: ${allowed.join(', ')}).`);
      }
    }
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.length === 0) {
      this.fail(`"${field}" is required and must be a non-empty string.`);
    }
    return value;
  }

  optionalString(value: unknown, field: string): string | undefined {
    return value === undefined ? undefined : this.string(value, field);
  }

  identifier(value: unknown, field: string): string {
    const id = this.string(value, field);
    if (id.length > MAX_NAME_LENGTH) {
      this.fail(`"${field}" must be at most ${MAX_NAME_LENGTH} characters long.`);
    }
    if (!IDENTIFIER.test(id)) {
      this.fail(`"${field}" must match ${IDENTIFIER.source} (got ${JSON.stringify(id)}).`);
    }
    return id;
  }

  space(value: unknown): string {
    const space = this.identifier(value, 'space');
    if (!isValidSpace(space)) this.fail(`"space" must be at least 3 characters long.`);
    return space;
  }

  boolean(value: unknown, field: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(`"${field}" must be a boolean.`);
    return value;
  }

  positiveInteger(
    value: unknown,
    field: string,
    max = Number.MAX_SAFE_INTEGER,
  ): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) {
      this.fail(`"${field}" must be a positive integer of at most ${max}.`);
    }
    return value;
  }

  stringList(value: unknown, field: string, fallback: readonly string[]): string[] {
    if (value === undefined) return [...fallback];
    if (!Array.isArray(value) || value.length === 0) {
      this.fail(`"${field}" must be a non-empty array of strings.`);
    }
    return value.map((item, i) => this.string(item, `${field}[${i}]`));
  }

  metadata(value: unknown): Metadata | undefined {
    if (value === undefined) return undefined;
    const record = this.object(value, '"metadata"');
    for (const [key, item] of Object.entries(record)) {
      // Names every object has cannot be filtered on (`?metadata.constructor=` is a 400).
      if (key === '' || key in Object.prototype) {
        this.fail(`"metadata" cannot have a key named ${JSON.stringify(key)}.`);
      }
      if (typeof item !== 'string') this.fail(`"metadata.${key}" must be a string.`);
    }
    return { ...(record as Record<string, string>) };
  }
}

/** True when every `filter` entry equals the record's metadata entry (an empty filter matches all). */
export function matchesMetadata(
  metadata: Metadata | undefined,
  filter: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!filter) return true;
  for (const key in filter) if (metadata?.[key] !== filter[key]) return false;
  return true;
}

/** Deep-freezes a JSON-like value so that records shared from the cache cannot be changed. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    // Own enumerable keys, as Object.values gives, without an array made per object.
    for (const key in value) if (Object.hasOwn(value, key)) deepFreeze(value[key]);
  }
  return value;
}

/**
 * The options argument of a factory, or a TypeError saying what was passed instead: in plain
 * JavaScript, a store or a string passed where options belong would otherwise be read as
 * "no options" or fail much later, far from the slip.
 */
export function optionsArgument<T extends object>(value: T | undefined, where: string): T {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(
      `${where}: options must be an object (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}).`,
    );
  }
  return value;
}

/** An option that must be a positive integer (a timer's at most MAX_TIMER_MS, or it fires at once). */
export function positiveOption(value: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new ValidationError(
      `option "${name}" must be a positive integer of at most ${max}, got ${String(value)}.`,
    );
  }
  return value;
}
