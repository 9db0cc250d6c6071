import type { Agent } from 'node:http';
import { isIP } from 'node:net';
import { normalizeHostName } from '../../model/host-name';
import type { OutboundCheck } from '../../model/outbound-policy';
import { guardedLookup, outboundRefusal } from './guarded-lookup';

type CreateConnection = (
  options: Record<string, unknown>,
  callback: (error: Error | null, socket?: unknown) => void,
) => unknown;

/**
 * Makes every connection of a node:http(s) agent pass the outbound check: an IP literal host is
 * checked before connecting (net.connect does not look it up), a name through a guarded lookup
 * for the connection's port. Returns the agent.
 */
export function guardAgent<A extends Agent>(agent: A, check: OutboundCheck): A {
  const connect = (agent as unknown as { createConnection: CreateConnection }).createConnection;
  (agent as unknown as { createConnection: CreateConnection }).createConnection = function (
    options,
    callback,
  ) {
    const host = normalizeHostName(String(options.host ?? options.hostname ?? 'localhost'));
    const port = Number(options.port);
    const family = isIP(host);
    const problem =
      family === 0 ? undefined : check.addressProblem(host, family as 4 | 6, undefined, port);
    if (problem) {
      // Returning nothing makes the agent wait for the callback: the request fails with it.
      process.nextTick(callback, outboundRefusal(host, problem));
      return undefined;
    }
    return connect.call(this, { ...options, lookup: guardedLookup(check, port) }, callback);
  };
  return agent;
}
