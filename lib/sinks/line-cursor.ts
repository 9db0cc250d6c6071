import { decodeRecord, type StoredRecord } from './archive-record';
import type { RunCursor } from './merge-runs';

const NEWLINE = 0x0a;

/**
 * The records of an archive object, decoded one line at a time from its bytes: a replay holds
 * the objects that overlap in time as bytes (outside the JavaScript heap), not as parsed events.
 */
export class LineCursor implements RunCursor<StoredRecord> {
  private at = 0;
  private line = 0;
  private current: StoredRecord | undefined;

  constructor(
    private readonly bytes: Buffer,
    private readonly where: string,
  ) {
    this.advance();
  }

  head(): StoredRecord | undefined {
    return this.current;
  }

  advance(): void {
    this.current = undefined;
    while (this.at < this.bytes.length && this.current === undefined) {
      let end = this.bytes.indexOf(NEWLINE, this.at);
      if (end < 0) end = this.bytes.length;
      const text = this.bytes.toString('utf8', this.at, end);
      this.at = end + 1;
      this.line++;
      if (text !== '') this.current = decodeRecord(text, `${this.where}, line ${this.line}`);
    }
  }
}
