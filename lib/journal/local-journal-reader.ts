import { JournalUnavailableError } from '../errors';
import { describeError } from '../model/describe-error';
import { requireOptionalPeer } from '../model/optional-peer';
import { setAsideOps, type Damage } from './damaged-records';
import type { JournalEntry } from './journal';
import { decodeEntries, decodeJson, strictUtf8 } from './journal-records';
import { LAYOUT, type Level } from './level-layout';

/**
 * The highest sequence number a key may carry (2^52): numbers past it are not all exact in
 * JavaScript, so the keys numbered after it would collide (a new group overwriting the last) and
 * a group's deletion would aim at a rounded key. This version's own numbers never come near it.
 */
const MAX_SEQ = 2 ** 52;

/** What a LocalJournal's directory holds, as read on open. */
export interface JournalContents {
  /** Groups of deliveries by sequence number. */
  readonly groups: Map<number, JournalEntry[]>;
  /** Deliveries marked finished. */
  readonly finished: Set<string>;
  /** The highest attempt count noted per delivery. */
  readonly attempts: Map<string, number>;
  /** The keys of each group's finished and attempt lists. */
  readonly keysOf: Map<number, string[]>;
  /** The bytes of each group's record and lists. */
  readonly bytesOf: Map<number, number>;
  /** The highest sequence number in use (new keys take numbers above it). */
  seq: number;
  /** Records set aside by earlier opens (under `d/`). */
  setAside: number;
  /** Records found damaged now. */
  readonly damaged: Damage[];
}

/**
 * Opens a LocalJournal's directory and reads it, setting aside (under `d/`, with their bytes and
 * the reason) the records that cannot be read. Rejects with JournalUnavailableError, and lets the
 * directory go, when it cannot open or read it.
 */
export async function loadJournal(
  directory: string,
): Promise<{ db: Level; contents: JournalContents }> {
  const { ClassicLevel } = requireOptionalPeer<{
    ClassicLevel: new (dir: string, options: { valueEncoding: string }) => Level;
  }>('classic-level', { feature: 'LocalJournal', install: 'classic-level@3' });
  const db = new ClassicLevel(directory, { valueEncoding: 'utf8' });
  try {
    await db.open();
  } catch (error) {
    const locked = /lock/i.test(describeError((error as Error)?.cause ?? error));
    throw new JournalUnavailableError(
      locked
        ? `The journal at ${directory} is in use by another process (its directory is locked).`
        : `The journal at ${directory} could not be opened: ${describeError(error)}`,
      { cause: error },
    );
  }
  try {
    const contents = await readJournal(db);
    if (contents.damaged.length > 0) {
      await db.batch(setAsideOps(contents.damaged, contents.seq), { sync: true });
      contents.seq += contents.damaged.length;
    }
    return { db, contents };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw new JournalUnavailableError(
      `The journal at ${directory} could not be read: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/**
 * Reads every record of a LocalJournal's directory, in bytes: whatever does not decode (a key
 * outside the layout, a value that is not UTF-8, not JSON, or not the shape its key calls for)
 * is listed in `damaged` instead of failing the whole read, for the journal to set aside.
 */
async function readJournal(db: Level): Promise<JournalContents> {
  const out: JournalContents = {
    groups: new Map(),
    finished: new Set(),
    attempts: new Map(),
    keysOf: new Map(),
    bytesOf: new Map(),
    seq: 0,
    setAside: 0,
    damaged: [],
  };
  for await (const [key, value] of db.iterator({
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  })) {
    const damage = readRecord(out, key, value);
    if (damage) out.damaged.push(damage);
    else addBytes(out, key, value.length);
  }
  return out;
}

/** Counts a record's bytes in its group's (records set aside are not the journal's to hold). */
function addBytes(out: JournalContents, key: Buffer, bytes: number): void {
  const match = LAYOUT.exec(key.toString());
  const seq = Number(match?.[2] ?? match?.[4]);
  if (match?.[1] === 'd' || !Number.isFinite(seq)) return;
  out.bytesOf.set(seq, (out.bytesOf.get(seq) ?? 0) + bytes);
}

/** Adds one record to what was read; returns its damage if it cannot be read. */
function readRecord(out: JournalContents, key: Buffer, value: Buffer): Damage | undefined {
  let name: string;
  try {
    name = strictUtf8.decode(key);
  } catch {
    return { key, value, reason: 'its key is not UTF-8 text' };
  }
  const match = LAYOUT.exec(name);
  if (!match) return { key, value, reason: "its key is not part of the journal's layout" };
  const [, single, singleSeq, list, listSeq, listN] = match;
  const seq = Number(singleSeq ?? listSeq);
  const n = Number(listN ?? 0);
  if (seq > MAX_SEQ || n > MAX_SEQ) {
    return { key, value, reason: `its sequence number is past ${MAX_SEQ} (another writer's)` };
  }
  out.seq = Math.max(out.seq, seq, n);
  if (single === 'd') {
    out.setAside++;
    return undefined;
  }
  if (single === 's') {
    const { entries, damage } = decodeEntries(value);
    // A group whose entries are all unreadable goes (set aside); an empty one ended.
    if (damage === undefined || entries.length > 0) out.groups.set(seq, entries);
    return damage === undefined
      ? undefined
      : { key, value, reason: damage, ...(entries.length > 0 ? { kept: entries } : {}) };
  }
  let parsed: unknown;
  try {
    parsed = decodeJson(value);
  } catch (error) {
    return { key, value, reason: (error as Error).message };
  }
  if (list === 'f') {
    if (!Array.isArray(parsed) || !parsed.every((id) => typeof id === 'string')) {
      return { key, value, reason: 'it is not a list of delivery IDs' };
    }
    for (const id of parsed as string[]) out.finished.add(id);
  } else {
    const counts =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? Object.entries(parsed)
        : undefined;
    if (!counts?.every(([, n]) => typeof n === 'number' && Number.isFinite(n))) {
      return { key, value, reason: 'it is not a map of attempt counts' };
    }
    for (const [id, n] of counts as [string, number][]) {
      out.attempts.set(id, Math.max(n, out.attempts.get(id) ?? 0));
    }
  }
  (out.keysOf.get(seq) ?? out.keysOf.set(seq, []).get(seq))?.push(name);
  return undefined;
}
