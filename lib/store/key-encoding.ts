import { ValidationError } from '../errors';

/**
 * One flat name per key for servers whose names cannot hold every character a key may (ZooKeeper
 * paths, Consul's key segments). Encoding is character by character, so a prefix of a key encodes
 * to a prefix of its name: listing a prefix stays a prefix match on names.
 */
export function encodeKey(key: string): string {
  try {
    return 'k' + encodeURIComponent(key);
  } catch {
    // A lone surrogate: no server name can hold it.
    throw new ValidationError(`key ${JSON.stringify(key)} is not well-formed text.`);
  }
}

/** The key a name from {@link encodeKey} stands for. */
export function decodeKey(name: string): string {
  return decodeURIComponent(name.slice(1));
}
