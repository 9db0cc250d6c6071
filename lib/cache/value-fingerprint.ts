/**
 * A 53-bit fingerprint of a value (cyrb53: two 32-bit multiply-xor hashes mixed): what a cache
 * that does not keep values compares instead of them. Two different values share one with odds
 * near 2^-53.
 *
 * @example
 * ```ts
 * valueFingerprint('{"a":1}') === valueFingerprint('{"a":1}'); // true
 * ```
 */
export function valueFingerprint(value: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
