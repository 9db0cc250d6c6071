/**
 * One flat name per key for servers whose names cannot hold every character a key may (ZooKeeper
 * paths, Consul's key segments). Encoding is character by character, so a prefix of a key encodes
 * to a prefix of its name: listing a prefix stays a prefix match on names.
 */
export function encodeKey(key: string): string {
  return 'k' + encodeURIComponent(key);
}

/** The key a name from {@link encodeKey} stands for. */
export function decodeKey(name: string): string {
  return decodeURIComponent(name.slice(1));
}
