import { RevisionCompactedError, StoreUnavailableError, ValidationError } from '../errors';
import type { LogBackend, LogHead, LogRecord, PriorState, StoredKey } from './log-backend';
import { seqRange, toKeyValue } from './log-backend';
import type { KeyValue, ListOptions, ListResult } from './store';

/** How many times a listing reads on while writers keep changing what it read. */
const MAX_ROUNDS = 50;

/**
 * Lists a prefix as it was at one revision, on a server that can only read the present: reads the
 * present, then undoes every change the log recorded after the revision (each change carries what
 * the key was before it). Reads made while writers change things are corrected the same way: the
 * listing ends once a round of reads saw the head unchanged.
 */
export async function listAtRevision(
  backend: LogBackend,
  readHead: () => Promise<LogHead>,
  prefix: string,
  options: ListOptions,
  memo: NamesMemo,
): Promise<ListResult> {
  let head = await readHead();
  const revision = options.revision ?? head.revision;
  if (revision > head.revision) {
    throw new ValidationError(`revision ${revision} is ahead of the store (${head.revision}).`);
  }
  const { names, values } = await memo.names(backend, prefix, head, revision);
  // What each key changed after `revision` was, before its first such change.
  const before = new Map<string, PriorState>();
  const note = (records: readonly LogRecord[]) => {
    for (const record of records) {
      for (const change of record.c) {
        const key = change[1];
        if (key.startsWith(prefix) && !before.has(key)) {
          before.set(key, change[0] === 'p' ? change[3] : change[2]);
        }
      }
    }
  };
  note(await recordsAfter(backend, head, revision));
  const read = new Map<string, StoredKey | undefined>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const page = candidates(names, before, options);
    // Values read with the names are as good as values read now: a key changed since has a record.
    const missing = page.keys.filter((key) => {
      if (before.has(key) || read.has(key)) return false;
      const known = values?.get(key);
      if (known) read.set(key, known);
      return !known;
    });
    const stored = await backend.readKeys(missing);
    missing.forEach((key, i) => read.set(key, stored[i]));
    const now = await readHead();
    if (now.cluster !== head.cluster) {
      throw new StoreUnavailableError('the store was emptied and made anew while listing.');
    }
    if (now.token === head.token) {
      if (!page.more) memo.forget();
      return assemble(page, before, read, revision);
    }
    note(await recordsBetween(backend, head.seq + 1, now.seq));
    head = now;
  }
  throw new StoreUnavailableError(
    `writes kept changing the listing of "${prefix}" for ${MAX_ROUNDS} rounds.`,
  );
}

/**
 * The key names of the listing being paged. Any names read at or after the listing's revision
 * serve every page of it (the change records correct them to the revision), so the pages of a
 * large listing share one read, sorted once, instead of reading every name again per page.
 */
export class NamesMemo {
  private kept?: {
    prefix: string;
    cluster: string;
    revision: number;
    names: string[];
    values?: Map<string, StoredKey>;
  };

  /** The names (sorted), and their values where the backend reads both in one go. */
  async names(backend: LogBackend, prefix: string, head: LogHead, revision: number) {
    const kept = this.kept;
    if (kept?.prefix === prefix && kept.cluster === head.cluster && kept.revision >= revision) {
      return kept;
    }
    let names: string[];
    let values: Map<string, StoredKey> | undefined;
    if (backend.readPrefix) {
      values = new Map((await backend.readPrefix(prefix)).map((kv) => [kv.key, kv]));
      names = [...values.keys()].sort(byKey);
    } else {
      names = (await backend.listKeys(prefix)).sort(byKey);
    }
    this.kept = { prefix, cluster: head.cluster, revision: head.revision, names, values };
    return this.kept;
  }

  /** Drops the names once the last page is out: a large listing's names (and values) are megabytes. */
  forget(): void {
    this.kept = undefined;
  }
}

/**
 * The keys of one page: those that existed at the revision, sorted, after `after`, to `limit`.
 * `names` is sorted: the smallest `limit + 1` untouched names after `after`, with every touched
 * key that existed at the revision, hold the page and tell whether more follow.
 */
function candidates(
  names: readonly string[],
  before: Map<string, PriorState>,
  options: ListOptions,
) {
  const { after, limit = Infinity } = options;
  let start = 0;
  if (after !== undefined) {
    let high = names.length;
    while (start < high) {
      const middle = (start + high) >> 1;
      if (names[middle] <= after) start = middle + 1;
      else high = middle;
    }
  }
  const keys: string[] = [];
  for (let i = start; i < names.length && keys.length <= limit; i++) {
    if (!before.has(names[i])) keys.push(names[i]);
  }
  for (const [key, prior] of before) {
    if (prior && (after === undefined || key > after)) keys.push(key);
  }
  keys.sort(byKey);
  const more = keys.length > limit;
  return { keys: more ? keys.slice(0, limit) : keys, more };
}

function assemble(
  page: { keys: string[]; more: boolean },
  before: Map<string, PriorState>,
  read: Map<string, StoredKey | undefined>,
  revision: number,
): ListResult {
  const items: KeyValue[] = [];
  for (const key of page.keys) {
    const prior = before.get(key);
    if (prior)
      items.push({ key, value: prior[0], createRevision: prior[1], modRevision: prior[2] });
    else {
      const stored = read.get(key);
      // Absent with the head unchanged: deleted before the listing began, and not since.
      if (stored) items.push(toKeyValue(stored));
    }
  }
  return { items, revision, more: page.more };
}

/** The records with a revision above `revision`, oldest first, or RevisionCompactedError. */
async function recordsAfter(
  backend: LogBackend,
  head: LogHead,
  revision: number,
): Promise<LogRecord[]> {
  if (revision >= head.revision) return [];
  const found: LogRecord[] = [];
  for (let seq = head.seq; seq >= 1; seq--) {
    const [record] = seq >= head.oldest ? await backend.readRecords([seq]) : [undefined];
    if (record && record.revision <= revision) return found.reverse();
    if (!record) {
      throw new RevisionCompactedError(
        `revision ${revision} is older than the store's change log.`,
        found.length ? found[found.length - 1].p : head.revision,
      );
    }
    found.push(record);
    // The oldest record names the revision before it: older history was trimmed.
    if (record.p <= revision) return found.reverse();
  }
  return found.reverse();
}

/** The records `from`..`to`, all of which must exist. */
export async function recordsBetween(
  backend: LogBackend,
  from: number,
  to: number,
): Promise<LogRecord[]> {
  if (to < from) return [];
  const seqs = seqRange(from, to);
  const records = await backend.readRecords(seqs);
  const gone = records.findIndex((r) => r === undefined);
  if (gone >= 0) {
    throw new RevisionCompactedError(`change record ${seqs[gone]} was trimmed.`, 0);
  }
  return records as LogRecord[];
}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
