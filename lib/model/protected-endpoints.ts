import { lookup } from 'node:dns';
import { BlockList, isIP, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { normalizeHostName, urlPort } from './host-name';

/** How long the list of this machine's own addresses is trusted before it is read again. */
const INTERFACES_TTL_MS = 10_000;

/**
 * Endpoints the gateway never delivers to, whoever registered the function: its own store's
 * client ports and the ports it serves HTTP on. A function URL pointing there would let whoever
 * registers functions write into the store (an etcd `/v3/kv/put`, a Consul `/v1/kv`) or loop
 * requests back into the gateway with the host's privileges.
 *
 * An endpoint on this machine (a loopback name or address, or one of its interfaces' addresses)
 * protects its port on every local address, since `127.0.0.2`, `[::1]` or the machine's LAN
 * address reach the same listening socket. A remote one is protected by its name and by the
 * addresses that name resolves to.
 */
export class ProtectedEndpoints {
  private readonly names = new Map<string, Set<number>>();
  private readonly addresses = new Map<string, Set<number>>();
  private readonly localPorts = new Set<number>();
  private local: { list: BlockList; readAt: number } | undefined;
  /** One more each time an endpoint is added: what was allowed before may not be any more. */
  version = 0;

  /**
   * Adds an endpoint: `'host:port'`, a URL (`http://etcd-1:2379`; the scheme's port when none is
   * given) or a listening socket's address. Throws TypeError when it names no port.
   */
  add(endpoint: string | AddressInfo): void {
    const { host, port } =
      typeof endpoint === 'string'
        ? parseEndpoint(endpoint)
        : { host: endpoint.address, port: endpoint.port };
    const name = normalizeHostName(host);
    if (isIP(name) !== 0) {
      this.addAddress(name, port);
      return;
    }
    if (isLocalName(name)) {
      this.version++;
      this.localPorts.add(port);
      return;
    }
    this.version++;
    add(this.names, name, port);
    // The name is matched at once; its addresses too once resolved (a failure leaves the name).
    lookup(name, { all: true }, (error, found) => {
      if (!error) for (const { address } of found) this.addAddress(address, port);
    });
  }

  /** Why a connection to `port` at `address` (resolved from `host`) is refused, or undefined. */
  problem(host: string | undefined, address: string | undefined, port: number): string | undefined {
    const name = host === undefined ? undefined : normalizeHostName(host);
    if (
      name !== undefined &&
      (this.names.get(name)?.has(port) || (this.localPorts.has(port) && isLocalName(name)))
    ) {
      return `${host}:${port} is one of the gateway's own endpoints (its store or its HTTP ports)`;
    }
    if (address === undefined) return undefined;
    const bare = normalizeHostName(address);
    if (this.addresses.get(bare)?.has(port) || (this.localPorts.has(port) && this.isLocal(bare))) {
      return `port ${port} at ${bare} is one of the gateway's own endpoints (its store or its HTTP ports)`;
    }
    return undefined;
  }

  private addAddress(address: string, port: number): void {
    this.version++;
    const bare = normalizeHostName(address);
    if (this.isLocal(bare)) this.localPorts.add(port);
    else add(this.addresses, bare, port);
  }

  /** Whether an address reaches this machine: loopback, unspecified, or an interface's own. */
  private isLocal(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const now = Date.now();
    if (!this.local || now - this.local.readAt > INTERFACES_TTL_MS) {
      const list = new BlockList();
      list.addSubnet('127.0.0.0', 8, 'ipv4');
      list.addSubnet('0.0.0.0', 8, 'ipv4');
      list.addAddress('::1', 'ipv6');
      list.addAddress('::', 'ipv6');
      for (const entries of Object.values(networkInterfaces())) {
        for (const entry of entries ?? []) {
          // A link-local address carries a zone (`fe80::1%eth0`) BlockList does not take.
          const own = entry.address.split('%')[0];
          list.addAddress(own, entry.family === 'IPv4' ? 'ipv4' : 'ipv6');
        }
      }
      this.local = { list, readAt: now };
    }
    return this.local.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Names that always mean this machine (RFC 6761). */
function isLocalName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost');
}

function add(map: Map<string, Set<number>>, key: string, port: number): void {
  let ports = map.get(key);
  if (!ports) map.set(key, (ports = new Set()));
  ports.add(port);
}

/** `host:port`, `[v6]:port` or a URL, as host and port. */
function parseEndpoint(given: string): { host: string; port: number } {
  const endpoint = given.trim();
  const url = (() => {
    try {
      return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `tcp://${endpoint}`);
    } catch {
      return undefined;
    }
  })();
  const port = url ? urlPort(url) : NaN;
  if (!url || !url.hostname || !Number.isInteger(port) || port <= 0) {
    throw new TypeError(
      `A protected endpoint must be "host:port" or a URL with a port (got ${JSON.stringify(endpoint)}).`,
    );
  }
  return { host: url.hostname, port };
}
