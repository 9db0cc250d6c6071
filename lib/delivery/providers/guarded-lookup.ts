import { lookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import type { OutboundPolicy } from '../../model/outbound-policy';

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net.connect that resolves like dns.lookup, then refuses the connection when any
 * address the name resolves to is forbidden by the outbound policy: checking the name at
 * registration alone would let DNS re-point it (rebinding) at a metadata or internal address.
 */
export function guardedLookup(policy: OutboundPolicy) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true } as LookupAllOptions, (error, addresses) => {
      if (error) return callback(error, []);
      for (const { address, family } of addresses) {
        const problem = policy.addressProblem(address, family as 4 | 6, hostname.toLowerCase());
        if (problem) {
          const refused = new Error(
            `connection to ${hostname} refused: ${problem}`,
          ) as NodeJS.ErrnoException;
          refused.code = 'EOUTBOUNDDENIED';
          return callback(refused, []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      callback(null, first.address, first.family);
    });
  };
}
