import { BlockList, isIP } from 'node:net';
import { normalizeHostName } from './host-name';

/**
 * Which addresses functions may be reached at. Checked when a function is registered (its URL's
 * scheme, host name and literal address) and again each time a connection is made (every address
 * its host name resolves to), so that a name re-pointed at a forbidden address (DNS rebinding) is
 * still refused.
 */
export interface OutboundOptions {
  /**
   * Hosts and ranges functions may be reached at: host names (`api.example.com`), subdomain
   * wildcards (`*.example.com`), addresses and CIDR ranges (`10.1.0.0/16`, `fd00::/8`). When
   * given, nothing else is allowed; an entry here also lifts the built-in blocks (for example a
   * metadata emulator at `169.254.169.254`).
   * @default every host but the blocked ones
   */
  allow?: string[];
  /**
   * Hosts and ranges functions may never be reached at (same forms as `allow`); wins over `allow`.
   * @default []
   */
  deny?: string[];
  /**
   * Whether loopback addresses (127.0.0.0/8, ::1, 0.0.0.0, `localhost`) are allowed: tests and
   * demos deliver to local servers. Turn it off where functions are never on the gateway's host.
   * @default true
   */
  allowLoopback?: boolean;
  /**
   * Whether private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) are allowed.
   * @default true
   */
  allowPrivate?: boolean;
  /**
   * What a function URL's `user:password@` becomes: `'send'` as a Basic Authorization header, or
   * `'refuse'` (registration fails). Never silently dropped.
   * @default 'send'
   */
  credentials?: 'send' | 'refuse';
  /**
   * Endpoints no function may reach, whoever wrote it (`'host:port'` or URLs), on top of those the
   * gateway protects by itself: its store's client endpoints and the ports its adapters serve.
   * Name here whatever else on the host's network answers to the gateway's privileges.
   * @default []
   */
  protect?: string[];
}

/** Always refused unless `allow` names them: link-local and cloud metadata endpoints. */
const METADATA = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128'];
const LOOPBACK = ['127.0.0.0/8', '0.0.0.0/8', '::1/128', '::/128'];
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'];

/** A set of host names, `*.suffix` wildcards, addresses and CIDR ranges. */
class HostSet {
  private readonly names = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly ranges = new BlockList();

  constructor(entries: readonly string[], field: string) {
    for (const entry of entries) {
      if (typeof entry !== 'string' || entry === '') {
        throw new TypeError(`outbound.${field}: every entry must be a non-empty string.`);
      }
      const [address, bits] = entry.split('/');
      const family = isIP(address);
      if (family !== 0) {
        const type = family === 4 ? 'ipv4' : 'ipv6';
        const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
          throw new TypeError(`outbound.${field}: "${entry}" has an invalid prefix length.`);
        }
        this.ranges.addSubnet(address, prefix, type);
      } else if (entry.startsWith('*.') && normalizeHostName(entry.slice(2)) !== '') {
        this.suffixes.push('.' + normalizeHostName(entry.slice(2)));
      } else if (bits === undefined && /^[a-z0-9.-]+$/.test(normalizeHostName(entry))) {
        this.names.add(normalizeHostName(entry));
      } else {
        throw new TypeError(
          `outbound.${field}: "${entry}" is neither a host name, "*.domain", an address nor a CIDR range.`,
        );
      }
    }
  }

  /** `host` in {@link normalizeHostName}'s form. */
  hasName(host: string): boolean {
    return this.names.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix));
  }

  hasAddress(address: string, family: 4 | 6): boolean {
    return this.ranges.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * What the providers ask before a connection: {@link OutboundPolicy} for one policy,
 * `OutboundPolicies` for the chain a function is held to (the gateway's own endpoints, the host's
 * policy, and for a tenant's function the tenant policy).
 */
export interface OutboundCheck {
  /** What a function URL's `user:password@` becomes (`'refuse'` when any policy refuses). */
  readonly credentials: 'send' | 'refuse';
  /** Why a URL may not be used, or undefined (its literal address and port included). */
  urlProblem(url: URL): string | undefined;
  /**
   * Why `address` (resolved from `host`, connected to on `port`) may not be connected to, or
   * undefined.
   */
  addressProblem(address: string, family: 4 | 6, host?: string, port?: number): string | undefined;
}

/**
 * Checks function URLs and the addresses they resolve to against {@link OutboundOptions}. The
 * gateway builds one from its `outbound` option; build one yourself to check a URL up front.
 * @example
 * ```ts
 * const policy = new OutboundPolicy({ allow: ['*.example.com'] });
 * policy.urlProblem(new URL('http://169.254.169.254/')); // 'address 169.254.169.254 is not in the outbound allow list'
 * ```
 */
export class OutboundPolicy implements OutboundCheck {
  private readonly allow: HostSet | undefined;
  private readonly deny: HostSet;
  private readonly blocked: HostSet;
  private readonly blockedNames: ReadonlySet<string>;
  readonly credentials: 'send' | 'refuse';

  constructor(options: OutboundOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('createGateway: option "outbound" must be an object.');
    }
    const { allow, deny = [], allowLoopback = true, allowPrivate = true } = options;
    for (const [name, value] of Object.entries({ allow, deny })) {
      if (value !== undefined && !Array.isArray(value)) {
        throw new TypeError(`outbound.${name} must be an array of strings.`);
      }
    }
    this.allow = allow && allow.length > 0 ? new HostSet(allow, 'allow') : undefined;
    this.deny = new HostSet(deny, 'deny');
    this.blocked = new HostSet(
      [...METADATA, ...(allowLoopback ? [] : LOOPBACK), ...(allowPrivate ? [] : PRIVATE)],
      'blocked',
    );
    this.blockedNames = new Set([
      'metadata.google.internal',
      ...(allowLoopback ? [] : ['localhost']),
    ]);
    if (options.credentials !== undefined && !['send', 'refuse'].includes(options.credentials)) {
      throw new TypeError(`outbound.credentials must be 'send' or 'refuse'.`);
    }
    this.credentials = options.credentials ?? 'send';
  }

  /** Why a URL may not be used for a function, or undefined when it may. */
  urlProblem(url: URL): string | undefined {
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return 'only http: and https: are allowed';
    if ((url.username || url.password) && this.credentials === 'refuse') {
      return 'credentials in URLs are refused by the outbound policy (outbound.credentials)';
    }
    const host = normalizeHostName(url.hostname);
    const family = isIP(host);
    return family === 0 ? this.nameProblem(host) : this.addressProblem(host, family as 4 | 6);
  }

  /** Why a host name may not be used, or undefined. Its addresses are checked at connect time. */
  nameProblem(name: string): string | undefined {
    const host = normalizeHostName(name);
    if (this.deny.hasName(host)) return `host "${host}" is denied by the outbound policy`;
    if (this.allow) {
      return this.allow.hasName(host)
        ? undefined
        : `host "${host}" is not in the outbound allow list`;
    }
    if (this.blockedNames.has(host)) return `host "${host}" is blocked by the outbound policy`;
    return undefined;
  }

  /**
   * Why an address may not be connected to, or undefined. `host` is the name it was resolved
   * from: a name on the allow list admits its addresses, except denied or blocked ones.
   */
  addressProblem(address: string, family: 4 | 6, name?: string): string | undefined {
    const host = name === undefined ? undefined : normalizeHostName(name);
    if (this.deny.hasAddress(address, family)) {
      return `address ${address} is denied by the outbound policy`;
    }
    if (this.allow?.hasAddress(address, family)) return undefined;
    if (this.allow && !(host !== undefined && this.allow.hasName(host))) {
      return `address ${address} is not in the outbound allow list`;
    }
    if (this.blocked.hasAddress(address, family)) {
      return `address ${address} is blocked by the outbound policy (link-local, metadata, or a range turned off)`;
    }
    return undefined;
  }
}
