import type { Agent } from 'node:http';
import type { OutboundCheck } from '../../model/outbound-policy';
import { guardedConnectOptions } from './guarded-lookup';

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
    const host = String(options.host ?? options.hostname ?? 'localhost');
    let guard: ReturnType<typeof guardedConnectOptions>;
    try {
      guard = guardedConnectOptions(check, host, Number(options.port));
    } catch (refusal) {
      // Returning nothing makes the agent wait for the callback: the request fails with it.
      process.nextTick(callback, refusal);
      return undefined;
    }
    return connect.call(this, { ...options, ...guard }, callback);
  };
  return agent;
}
