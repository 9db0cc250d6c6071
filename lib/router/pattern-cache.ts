import { compileProgram, type CompiledPattern } from '../model/event-pattern';
import { PatternProgram, type PatternShape } from '../model/pattern-program';

/** What a freed slot holds: probing goes on past it, a new program may take it. */
const FREED = 0;
/** Slots of an empty table (a power of two). */
const FIRST_CAPACITY = 16;

type Slot = PatternProgram | typeof FREED | undefined;

/**
 * Compiled filters shared between subscriptions whose filters are equal, counted: the last
 * subscription to let go of one frees it, so the cache holds exactly the filters in use. Equal
 * means equal JSON, key order included: the order of a filter's fields is the order they are
 * tested (and paid for, and explained), so `{a, b}` and `{b, a}` are two patterns. Programs are
 * found by a hash of that JSON, not the JSON itself: a filter's text is held once, by its record.
 * The table is an array of programs and one of their hashes (open addressing, linear probing):
 * ~20 bytes per program, where a Map held ~46. Filters of the same structure (different
 * values) share their program's shape.
 *
 * @example
 * ```ts
 * const cache = new PatternCache();
 * const pattern = cache.acquire(sub.filter); // compiled once for every equal filter
 * cache.release(sub.filter); // when the subscription goes
 * ```
 */
export class PatternCache {
  private slots: Slot[] = new Array<Slot>(FIRST_CAPACITY).fill(undefined);
  /** The hash of each slot's filter: probing compares JSON only where hashes are equal. */
  private hashes = new Uint32Array(FIRST_CAPACITY);
  /** Programs held. */
  private count = 0;
  /** Slots freed since the table was last built. */
  private freed = 0;
  /** Shapes in use, by key. */
  private readonly shapes = new Map<string, PatternShape>();

  /** How many distinct filters are held. */
  get size(): number {
    return this.count;
  }

  /**
   * The compiled pattern of a filter, one reference more; never throws. A stored filter this
   * version cannot read (another version wrote it) matches nothing.
   */
  acquire(filter: unknown): CompiledPattern {
    const json = JSON.stringify(filter);
    const hash = hashOf(json);
    const at = this.find(filter, json, hash);
    if (at >= 0) {
      const found = this.slots[at] as PatternProgram;
      found.refs++;
      return found;
    }
    let program: PatternProgram;
    try {
      program = compileProgram(filter);
      program.shape = this.share(program.shape);
    } catch {
      program = PatternProgram.unreadable(filter);
    }
    program.refs = 1;
    if ((this.count + this.freed + 1) * 4 > this.slots.length * 3) this.rebuild();
    this.place(program, hash);
    this.count++;
    return program;
  }

  /** One reference less to a filter acquired before; the last one frees it. */
  release(filter: unknown): void {
    const json = JSON.stringify(filter);
    const at = this.find(filter, json, hashOf(json));
    if (at < 0) return;
    const program = this.slots[at] as PatternProgram;
    if (--program.refs > 0) return;
    this.slots[at] = FREED;
    this.count--;
    this.freed++;
    const { shape } = program;
    if (this.shapes.get(shape.key()) === shape && --shape.refs === 0) {
      this.shapes.delete(shape.key());
    }
  }

  /** The slot of the program compiled from an equal filter (same object, or same JSON), or -1. */
  private find(filter: unknown, json: string, hash: number): number {
    const { slots, hashes } = this;
    const mask = slots.length - 1;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const slot = slots[at];
      if (slot === undefined) return -1;
      if (
        slot !== FREED &&
        hashes[at] === hash &&
        (slot.filter === filter || JSON.stringify(slot.filter) === json)
      ) {
        return at;
      }
    }
  }

  /** Puts a program in the first free slot from its hash's. */
  private place(program: PatternProgram, hash: number): void {
    const { slots } = this;
    const mask = slots.length - 1;
    let at = hash & mask;
    while (slots[at] !== undefined && slots[at] !== FREED) at = (at + 1) & mask;
    if (slots[at] === FREED) this.freed--;
    slots[at] = program;
    this.hashes[at] = hash;
  }

  /** Builds the table anew without its freed slots, twice as large when over half full. */
  private rebuild(): void {
    const { slots, hashes } = this;
    let capacity = FIRST_CAPACITY;
    while (capacity < (this.count + 1) * 2) capacity *= 2;
    this.slots = new Array<Slot>(capacity).fill(undefined);
    this.hashes = new Uint32Array(capacity);
    this.freed = 0;
    for (let at = 0; at < slots.length; at++) {
      const slot = slots[at];
      if (slot) this.place(slot, hashes[at]);
    }
  }

  /** The shape in use equal to this one (counted), or this one, now in use. */
  private share(shape: PatternShape): PatternShape {
    const key = shape.key();
    const held = this.shapes.get(key) ?? shape;
    if (held === shape) this.shapes.set(key, shape);
    held.refs++;
    return held;
  }
}

/**
 * FNV-1a over the UTF-16 code units of a text: the 32-bit hash the cache files a filter's JSON
 * under (collisions are resolved by comparing JSON).
 *
 * @example
 * ```ts
 * hashOf('{"x":["a"]}'); // a number in [0, 2 ** 32)
 * ```
 */
export function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
