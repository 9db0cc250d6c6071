/**
 * Finished marks of a partition's records past its committed offset, written as the offset
 * commit's metadata: which deliveries of each partly finished record ended (and which whole
 * records ended behind an unfinished one), so that the next owner of the partition resumes only
 * the rest. Bounded by {@link MARKS_BYTES}: marks past it are left out, and what they covered is
 * made again (at least once, as without marks).
 */

/** Marks of one record: the indexes (in its decoded order) of its ended deliveries, or all. */
export type RecordMarks = Uint8Array | true;

/** Metadata starting otherwise is not ours (an older version writes none): no marks. */
const PREFIX = 'egf1;';

/**
 * Most characters of marks in one commit: under Kafka's default `offset.metadata.max.bytes`
 * (4096), so a commit is never refused for its marks on a stock broker.
 */
export const MARKS_BYTES = 4000;

/** A record's marks as `encodeMarks` takes them: its offset past the committed one. */
export interface MarkedRecord {
  readonly delta: number;
  readonly marks: RecordMarks;
}

/**
 * The metadata for `records` (ascending `delta`): `D` or `D-E` for records that ended whole,
 * `D:bits` (base64url, bit i = delivery i ended) for partly finished ones; records that do not fit
 * in `maxBytes` are left out. An empty string when there is nothing to mark.
 *
 * @example
 * ```ts
 * encodeMarks([{ delta: 0, marks: new Uint8Array([0b101]) }, { delta: 1, marks: true }]); // 'egf1;0:BQ;1'
 * ```
 */
export function encodeMarks(records: readonly MarkedRecord[], maxBytes = MARKS_BYTES): string {
  let out = '';
  for (let i = 0; i < records.length; i++) {
    const { delta, marks } = records[i];
    let item: string;
    if (marks === true) {
      // A run of whole records: one range.
      let last = delta;
      while (
        i + 1 < records.length &&
        records[i + 1].marks === true &&
        records[i + 1].delta === last + 1
      ) {
        last = records[++i].delta;
      }
      item = last === delta ? `${delta}` : `${delta}-${last}`;
    } else {
      item = `${delta}:${Buffer.from(marks.buffer, marks.byteOffset, marks.byteLength).toString('base64url')}`;
    }
    const next = out === '' ? PREFIX + item : `${out};${item}`;
    if (next.length > maxBytes) break;
    out = next;
  }
  return out;
}

/** Marks read back from a commit: partly finished records, and runs of records that ended whole. */
export interface ReadMarks {
  readonly partial: ReadonlyMap<number, Uint8Array>;
  readonly whole: readonly (readonly [number, number])[];
  /** The highest offset past the committed one that has marks (-1: none). */
  readonly last: number;
}

const NO_MARKS: ReadMarks = { partial: new Map(), whole: [], last: -1 };

/**
 * The marks in a commit's metadata, by offset past the committed one; none for metadata that is
 * not marks (none, another writer's, or malformed: then nothing is skipped, nothing lost).
 *
 * @example
 * ```ts
 * marksAt(decodeMarks('egf1;0:BQ;1-3'), 2); // true
 * ```
 */
export function decodeMarks(metadata: string | null | undefined): ReadMarks {
  if (typeof metadata !== 'string' || !metadata.startsWith(PREFIX)) return NO_MARKS;
  const partial = new Map<number, Uint8Array>();
  const whole: [number, number][] = [];
  let last = -1;
  for (const item of metadata.slice(PREFIX.length).split(';')) {
    const match = /^(\d{1,15})(?:-(\d{1,15})|:([A-Za-z0-9_-]+))?$/.exec(item);
    if (!match) return NO_MARKS;
    const delta = Number(match[1]);
    const end = match[2] === undefined ? delta : Number(match[2]);
    if (match[3] !== undefined)
      partial.set(delta, new Uint8Array(Buffer.from(match[3], 'base64url')));
    else if (end >= delta) whole.push([delta, end]);
    else return NO_MARKS;
    last = Math.max(last, end);
  }
  return { partial, whole, last };
}

/** The marks of the record `delta` past the committed offset, if any. */
export function marksAt(read: ReadMarks, delta: number): RecordMarks | undefined {
  const partial = read.partial.get(delta);
  if (partial) return partial;
  for (const [from, to] of read.whole) if (delta >= from && delta <= to) return true;
  return undefined;
}

/** Whether delivery `index` of a record is marked ended. */
export function isMarked(marks: RecordMarks | undefined, index: number): boolean {
  if (marks === undefined) return false;
  if (marks === true) return true;
  return (marks[index >> 3] & (1 << (index & 7))) !== 0;
}
