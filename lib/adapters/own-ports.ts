import type { AddressInfo, Socket } from 'node:net';

/** A gateway that keeps functions away from its own endpoints (`Gateway.protectEndpoint`). */
interface ProtectsEndpoints {
  protectEndpoint(endpoint: AddressInfo): void;
}

/**
 * A per-request hook for adapters: tells the gateway each local address and port it is served
 * on (once per connection), so that no function registered through this API can point back at
 * it. A gateway without `protectEndpoint` (a test double) is left alone.
 */
export function ownPortLearner(gateway: object): (socket: Socket | undefined | null) => void {
  const protect = (gateway as Partial<ProtectsEndpoints>).protectEndpoint;
  if (typeof protect !== 'function') return () => undefined;
  const seen = new WeakSet<Socket>();
  const ports = new Set<string>();
  return (socket) => {
    if (!socket || seen.has(socket)) return;
    seen.add(socket);
    const { localAddress: address, localPort: port } = socket;
    if (address === undefined || port === undefined) return;
    const key = `${address} ${port}`;
    if (ports.has(key)) return;
    ports.add(key);
    protect.call(gateway, { address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });
  };
}
