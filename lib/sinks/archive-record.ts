import { ArchiveUnavailableError } from '../errors';
import type { ArchivedEvent } from '../intake/archive-source';

/** An archived event with its sequence number in the archive that wrote it. */
export interface StoredRecord extends ArchivedEvent {
  readonly seq: number;
}

/**
 * One archived event as a line of JSON: when and where it was accepted, then the event as it
 * was accepted (`acceptedAt` in ISO 8601, so that query engines read it as a timestamp).
 */
export function encodeRecord(record: ArchivedEvent, seq: number): string {
  return (
    `{"acceptedAt":"${new Date(record.acceptedAt).toISOString()}","seq":${seq},` +
    `"space":${JSON.stringify(record.space)},"method":${JSON.stringify(record.method)},` +
    `"path":${JSON.stringify(record.path)},"event":${JSON.stringify(record.event)}}\n`
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
