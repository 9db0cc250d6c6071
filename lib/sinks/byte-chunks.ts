/** Size of each chunk: large enough that most objects take a few. */
const CHUNK = 1024 * 1024;
/** Strings gathered before they are encoded together (one call instead of hundreds). */
const GATHER = 256;

/**
 * Text appended as UTF-8 into large buffers: an archive's pending object holds its events as
 * bytes outside the JavaScript heap (thousands of retained strings would cost the host's garbage
 * collector more than encoding them once). Small strings are gathered and encoded a few hundred
 * at a time.
 */
export class ByteChunks {
  private readonly chunks: Buffer[] = [];
  private current: Buffer = Buffer.allocUnsafe(0);
  private used = 0;
  private total = 0;
  private gathered: string[] = [];

  /** Appends `text`; returns about how many bytes it takes (its UTF-16 length). */
  write(text: string): number {
    this.gathered.push(text);
    if (this.gathered.length >= GATHER) this.encode();
    return text.length;
  }

  /** Everything written, as one buffer. */
  bytes(): Buffer {
    this.encode();
    const last = this.current.subarray(0, this.used);
    if (this.chunks.length === 0) return last;
    return Buffer.concat([...this.chunks, last], this.total);
  }

  private encode(): void {
    if (this.gathered.length === 0) return;
    const text = this.gathered.join('');
    this.gathered = [];
    // UTF-8 takes at most 3 bytes per UTF-16 unit: with that much room, one pass writes it.
    if (this.current.length - this.used < text.length * 3) {
      if (this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
      this.current = Buffer.allocUnsafe(Math.max(CHUNK, text.length * 3));
      this.used = 0;
    }
    const length = this.current.write(text, this.used);
    this.used += length;
    this.total += length;
  }
}
