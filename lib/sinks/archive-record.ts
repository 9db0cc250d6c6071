import { ArchiveUnavailableError } from '../errors';
import type { CloudEvent } from '../model/cloud-event';
import type { ArchivedEvent } from '../plugins/archive-source';

/** An archived event with its sequence number in the archive that wrote it. */
export interface StoredRecord extends ArchivedEvent {
  readonly seq: number;
}

let lastAt = NaN;
let lastIso = '';
let lastWhere = { space: '', method: '', path: '', json: '' };

/**
 * `"space":…,"method":…,"path":…` of where an event was accepted, kept for the next event
 * (consecutive events mostly share it).
 */
export function whereJson(where: { space: string; method: string; path: string }): string {
  if (
    where.space !== lastWhere.space ||
    where.method !== lastWhere.method ||
    where.path !== lastWhere.path
  ) {
    const { space, method, path } = where;
    const json = `"space":${JSON.stringify(space)},"method":${JSON.stringify(method)},"path":${JSON.stringify(path)}`;
    lastWhere = { space, method, path, json };
  }
  return lastWhere.json;
}

/**
 * Writes one archived event as a line of JSON: when and where it was accepted, then the event
 * as it was accepted (`acceptedAt` in ISO 8601, so that query engines read it as a timestamp).
 * Written in pieces (no concatenated string to flatten); returns the bytes written.
 */
export function writeRecord(
  out: { write(text: string): number },
  event: CloudEvent,
  where: { space: string; method: string; path: string },
  acceptedAt: number,
  seq: number,
): number {
  if (acceptedAt !== lastAt) {
    lastAt = acceptedAt;
    lastIso = new Date(acceptedAt).toISOString();
  }
  return (
    out.write(`{"acceptedAt":"${lastIso}","seq":${seq},`) +
    out.write(whereJson(where)) +
    out.write(',"event":') +
    out.write(JSON.stringify(event)) +
    out.write('}\n')
  );
}

/** Reads a line written by {@link encodeRecord}; `where` names it in the error for a bad one. */
export function decodeRecord(line: string, where: string): StoredRecord {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch (error) {
    throw new ArchiveUnavailableError(`The archive holds a line that is not JSON (${where}).`, {
      cause: error,
    });
  }
  const acceptedAt = Date.parse(parsed.acceptedAt as string);
  const { space, method, path, event, seq } = parsed;
  if (
    !Number.isFinite(acceptedAt) ||
    typeof space !== 'string' ||
    typeof method !== 'string' ||
    typeof path !== 'string' ||
    typeof event !== 'object' ||
    event === null
  ) {
    throw new ArchiveUnavailableError(
      `The archive holds a line that is not an archived event (${where}).`,
    );
  }
  return {
    acceptedAt,
    seq: typeof seq === 'number' ? seq : 0,
    space,
    method,
    path,
    event: event as Record<string, unknown>,
  };
}

/** The order events are replayed in: as accepted, ties in the order their archive wrote them. */
export function earlier(a: StoredRecord, b: StoredRecord): boolean {
  return a.acceptedAt < b.acceptedAt || (a.acceptedAt === b.acceptedAt && a.seq < b.seq);
}
