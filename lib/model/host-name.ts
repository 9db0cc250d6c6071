import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * A host name in the one form every comparison uses: brackets of an IPv6 literal removed, lower
 * case, international names in their ASCII (IDNA) form, trailing dots removed. Without it
 * `Vault.corp.example.` or `vаult.corp.example` (Cyrillic а, punycode) would slip past a list
 * entry for `vault.corp.example` while resolving to the same host (or to one the entry meant).
 * @example
 * ```ts
 * normalizeHostName('Vault.Corp.Example.'); // 'vault.corp.example'
 * normalizeHostName('bücher.de'); // 'xn--bcher-kva.de'
 * ```
 */
export function normalizeHostName(name: string): string {
  const bare = name.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(bare) !== 0) return bare;
  // domainToASCII answers '' for a name IDNA refuses: such a name resolves nowhere, keep it as is.
  const ascii = domainToASCII(bare) || bare;
  return ascii.replace(/\.+$/, '');
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** The port a URL connects to: its own, or its scheme's (NaN when neither says). */
export function urlPort(url: URL): number {
  return Number(url.port || DEFAULT_PORTS[url.protocol]);
}
