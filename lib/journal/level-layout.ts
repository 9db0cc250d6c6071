/** What a LocalJournal uses of classic-level (LevelDB). */
export interface Level {
  open(): Promise<void>;
  close(): Promise<void>;
  batch(ops: Op[], options?: { sync?: boolean }): Promise<void>;
  iterator(options: {
    keyEncoding: 'buffer';
    valueEncoding: 'buffer';
    gte?: string;
    lt?: string;
    limit?: number;
  }): AsyncIterable<[Buffer, Buffer]>;
}

/** One write of a batch (a key in bytes for a record whose key is not UTF-8). */
export type Op = {
  type: 'put' | 'del';
  key: string | Buffer;
  value?: string;
  keyEncoding?: 'buffer';
};

/**
 * A LocalJournal's keys: `s/<seq>` a group of deliveries, `f/<seq>/<n>` and `a/<seq>/<n>` a list
 * of the group's finished deliveries and of attempt counts, `d/<n>` a record set aside because it
 * could not be read. Groups, lists and set-aside records share one sequence.
 */
export const LAYOUT = /^(?:([sd])\/(\d{15,})|([fa])\/(\d{15,})\/(\d{15,}))$/;

/** A sequence number as it appears in keys: zero-padded to 15 digits, so that keys sort. */
export const seqKey = (seq: number): string => String(seq).padStart(15, '0');

/** The range of the records set aside (`d/<n>`), read in bytes. */
export const DAMAGED_RANGE = {
  keyEncoding: 'buffer',
  valueEncoding: 'buffer',
  gte: 'd/',
  lt: 'd0',
} as const;
