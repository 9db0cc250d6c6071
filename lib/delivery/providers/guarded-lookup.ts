import { lookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { normalizeHostName } from '../../model/host-name';
import type { OutboundCheck } from '../../model/outbound-policy';

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** The error a refused connection fails with: never retried (it would be refused again). */
export function outboundRefusal(host: string, problem: string): NodeJS.ErrnoException {
  const refused = new Error(`connection to ${host} refused: ${problem}`) as NodeJS.ErrnoException;
  refused.code = 'EOUTBOUNDDENIED';
  return refused;
}

/**
 * A `lookup` for net.connect that resolves like dns.lookup, then refuses the connection when any
 * address the name resolves to is forbidden by the outbound check (for `port`): checking the name
 * at registration alone would let DNS re-point it (rebinding) at a metadata or internal address.
 * net.connect skips `lookup` for an IP literal: the callers check literals themselves.
 */
export function guardedLookup(check: OutboundCheck, port: number) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true } as LookupAllOptions, (error, addresses) => {
      if (error) return callback(error, []);
      for (const { address, family } of addresses) {
        const problem = check.addressProblem(address, family as 4 | 6, hostname, port);
        if (problem) return callback(outboundRefusal(hostname, problem), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      callback(null, first.address, first.family);
    });
  };
}

/**
 * The options that make a net/tls connection to `host`:`port` pass the outbound check: a `lookup`
 * that checks every address a name resolves to. Throws the refusal at once when `host` is an IP
 * literal the check forbids (net.connect never looks a literal up).
 * @example
 * ```ts
 * const socket = net.connect({ host, port, ...guardedConnectOptions(check, host, port) });
 * ```
 */
export function guardedConnectOptions(
  check: OutboundCheck,
  host: string,
  port: number,
): { lookup: ReturnType<typeof guardedLookup> } {
  const literal = normalizeHostName(host);
  const family = isIP(literal);
  const problem =
    family === 0 ? undefined : check.addressProblem(literal, family as 4 | 6, undefined, port);
  if (problem) throw outboundRefusal(literal, problem);
  return { lookup: guardedLookup(check, port) };
}
