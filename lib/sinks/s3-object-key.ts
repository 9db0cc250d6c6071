import { createHash } from 'node:crypto';

/** What an archive object's key says of it. */
export interface ObjectKeyParts {
  readonly space: string;
  /** The event type; undefined in a parsed key whose type was too long to spell out. */
  readonly type: string | undefined;
  /** When its first and last events were accepted (ms since the epoch). */
  readonly first: number;
  readonly last: number;
  readonly id: string;
  readonly gzip: boolean;
}

/** `20261128T081500123Z`: an instant in a key, sorting as time does. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

function fromStamp(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(text);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]) : NaN;
}

/** `YYYY/MM/DD/HH/`: the hour partition of an instant. */
export function hourPath(ms: number): string {
  const iso = new Date(Math.max(0, ms)).toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}/`;
}

/**
 * `<prefix><space>/<type>/YYYY/MM/DD/HH/<first>-<last>-<id>.ndjson[.gz]`: a series per space and
 * type, ordered by time within it (names are URI-encoded: a type may hold a `/`).
 */
export function objectKey(prefix: string, parts: ObjectKeyParts): string {
  return (
    partitionPrefix(prefix, parts.space, parts.type, parts.first) +
    `${stamp(parts.first)}-${stamp(parts.last)}-${parts.id}.ndjson${parts.gzip ? '.gz' : ''}`
  );
}

/**
 * The key prefix of a space, of a series (space and type), or of a series' hour; with nothing
 * given, the archive's prefix.
 */
export function partitionPrefix(
  prefix: string,
  space?: string,
  type?: string,
  hourOf?: number,
): string {
  if (space === undefined) return prefix;
  const spacePart = `${prefix}${encodeURIComponent(space)}/`;
  if (type === undefined) return spacePart;
  const series = `${spacePart}${typeSegment(type)}/`;
  return hourOf === undefined ? series : series + hourPath(hourOf);
}

/** Longest type segment spelled out: S3 keys hold at most 1,024 bytes. */
const MAX_TYPE_SEGMENT = 400;

/**
 * The type's URI-encoded name; past MAX_TYPE_SEGMENT, its start, `~` and a hash of the whole (a
 * replay then tells the type by the events themselves).
 */
function typeSegment(type: string): string {
  const encoded = encodeURIComponent(type);
  if (encoded.length <= MAX_TYPE_SEGMENT) return encoded;
  const hash = createHash('sha256').update(type).digest('hex').slice(0, 32);
  return `${encoded.slice(0, 200).replace(/%[0-9A-F]?$/, '')}~${hash}`;
}

const NAME = /^(\d{8}T\d{9}Z)-(\d{8}T\d{9}Z)-([0-9a-f]+)\.ndjson(\.gz)?$/;

/** The parts of a key {@link objectKey} made, or undefined for any other object. */
export function parseObjectKey(prefix: string, key: string): ObjectKeyParts | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const segments = key.slice(prefix.length).split('/');
  if (segments.length !== 7) return undefined;
  const name = NAME.exec(segments[6]);
  if (!name) return undefined;
  const first = fromStamp(name[1]);
  const last = fromStamp(name[2]);
  if (!Number.isFinite(first) || !Number.isFinite(last)) return undefined;
  try {
    return {
      space: decodeURIComponent(segments[0]),
      type: segments[1].includes('~') ? undefined : decodeURIComponent(segments[1]),
      first,
      last,
      id: name[3],
      gzip: name[4] !== undefined,
    };
  } catch {
    return undefined; // not our encoding
  }
}
