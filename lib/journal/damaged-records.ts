import { JournalRecordDamagedError } from '../errors';
import type { JournalEntry } from './journal';
import { DAMAGED_RANGE, seqKey, type Level, type Op } from './level-layout';

/** A record of a LocalJournal's directory that cannot be read, as found: to set aside. */
export interface Damage {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly reason: string;
  /** For a group some of whose entries are deliveries: those, written back in its place. */
  readonly kept?: JournalEntry[];
}

/** A record a journal could not read, as it was set aside: kept for an operator to inspect. */
export interface DamagedRecord {
  /** Where it is kept now (its key in the journal's `d/` range): pass it to `discardDamaged`. */
  readonly id: string;
  /** Where it was (its key; bytes that are not UTF-8 show as U+FFFD). */
  readonly key: string;
  /** Why it could not be read. */
  readonly reason: string;
  /** When it was set aside (ISO 8601). */
  readonly setAsideAt: string;
  /** Its bytes, exactly as they were found. */
  readonly value: Buffer;
}

/** How a set-aside record is stored: JSON, with the original bytes in base64. */
interface Stored {
  key: string;
  /** The original key's bytes, when they are not UTF-8 (`key` then shows U+FFFD for them). */
  keyBytes?: string;
  reason: string;
  setAsideAt: string;
  value: string;
}

/** Damaged records reported one by one; past them, one report tells how many more. */
const REPORTED_ONE_BY_ONE = 20;

/**
 * The writes that move damaged records under `d/<n>` (numbered from `seq` + 1), each with its
 * bytes and reason, in one batch: a group some of whose entries are deliveries keeps those in its
 * place, anything else leaves its key.
 */
export function setAsideOps(damaged: readonly Damage[], seq: number): Op[] {
  const ops: Op[] = [];
  const setAsideAt = new Date().toISOString();
  for (const { key, value, reason, kept } of damaged) {
    const text = key.toString('utf8');
    const stored: Stored = {
      key: text,
      ...(Buffer.from(text, 'utf8').equals(key) ? {} : { keyBytes: key.toString('base64') }),
      reason,
      setAsideAt,
      value: value.toString('base64'),
    };
    ops.push({ type: 'put', key: `d/${seqKey(++seq)}`, value: JSON.stringify(stored) });
    ops.push(
      kept
        ? { type: 'put', key: text, value: JSON.stringify(kept) }
        : { type: 'del', key, keyEncoding: 'buffer' },
    );
  }
  return ops;
}

/** What to report of records set aside: the first ones one by one, then how many more. */
export function damageReports(
  damaged: readonly Damage[],
  directory: string,
): JournalRecordDamagedError[] {
  const reports = damaged.slice(0, REPORTED_ONE_BY_ONE).map(({ key, reason }) => {
    const text = key.toString('utf8');
    return new JournalRecordDamagedError(
      `The journal at ${directory} set aside record "${text}": ${reason}. It is kept, with its bytes, for inspection (LocalJournal.damagedRecords()); everything else resumes.`,
      text,
      reason,
    );
  });
  const more = damaged.length - REPORTED_ONE_BY_ONE;
  if (more > 0) {
    reports.push(
      new JournalRecordDamagedError(
        `The journal at ${directory} set aside ${more} more records that could not be read (LocalJournal.damagedRecords()).`,
        `${more} more records`,
        'they could not be read',
      ),
    );
  }
  return reports;
}

/** The records set aside, oldest first, at most `limit`. */
export async function listDamaged(db: Level, limit: number): Promise<DamagedRecord[]> {
  const out: DamagedRecord[] = [];
  for await (const [key, value] of db.iterator({ ...DAMAGED_RANGE, limit })) {
    out.push(readSetAside(key.toString('utf8'), value));
  }
  return out;
}

/** Deletes records set aside (those `ids`, or all); resolves with how many were there. */
export async function discardDamaged(db: Level, ids?: readonly string[]): Promise<number> {
  const wanted = ids && new Set(ids);
  const keys: string[] = [];
  for await (const [key] of db.iterator(DAMAGED_RANGE)) {
    const id = key.toString('utf8');
    if (!wanted || wanted.has(id)) keys.push(id);
  }
  if (keys.length > 0) {
    await db.batch(
      keys.map((key) => ({ type: 'del', key })),
      { sync: true },
    );
  }
  return keys.length;
}

/** Reads a set-aside record back; one that is itself unreadable is shown as it is. */
function readSetAside(id: string, stored: Buffer): DamagedRecord {
  try {
    const parsed = JSON.parse(stored.toString('utf8')) as Stored;
    if (typeof parsed.key === 'string' && typeof parsed.value === 'string') {
      return {
        id,
        key: parsed.key,
        reason: String(parsed.reason),
        setAsideAt: String(parsed.setAsideAt),
        value: Buffer.from(parsed.value, 'base64'),
      };
    }
  } catch {
    // shown as found, below
  }
  return {
    id,
    key: '',
    reason: 'the set-aside record itself cannot be read',
    setAsideAt: '',
    value: stored,
  };
}
