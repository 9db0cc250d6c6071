import { isIP } from 'node:net';
import { normalizeHostName, urlPort } from './host-name';
import { OutboundPolicy, type OutboundCheck, type OutboundOptions } from './outbound-policy';
import { ProtectedEndpoints } from './protected-endpoints';

/**
 * The policy for functions written by tenants (through the Configuration API served with API
 * keys): held to it on top of the host's `outbound` policy, so it can only be stricter.
 */
export interface TenantOutboundOptions extends OutboundOptions {
  /**
   * A policy per space, used instead of the options above for that space's tenant functions
   * (for example `{ acme: { allowPrivate: true, allow: ['10.1.0.0/16'] } }`).
   * @default {}
   */
  spaces?: Record<string, OutboundOptions>;
}

/** A tenant function's default: nothing on the gateway's host or its private networks. */
const TENANT_DEFAULT: OutboundOptions = { allowLoopback: false, allowPrivate: false };

/** The policy that tells who wrote a function record. */
export interface FunctionWriter {
  readonly space: string;
  readonly writer?: 'tenant';
}

/**
 * Every outbound rule of a gateway, chosen per function: the gateway's own endpoints (never),
 * then the host's policy, then, for a function a tenant wrote, the tenant policy of its space.
 * @example
 * ```ts
 * const policies = new OutboundPolicies({ outbound: {}, tenantOutbound: { allow: ['*.example.com'] } });
 * policies.forFunction({ space: 'acme', writer: 'tenant' }).urlProblem(new URL('http://127.0.0.1/'));
 * // 'address 127.0.0.1 is not in the outbound allow list'
 * ```
 */
export class OutboundPolicies {
  /** The host's policy: the `outbound` option. */
  readonly host: OutboundPolicy;
  /** Endpoints no function may reach: the store's, the gateway's own ports, `outbound.protect`. */
  readonly protectedEndpoints = new ProtectedEndpoints();
  private readonly tenantDefault: OutboundPolicy;
  private readonly tenantSpaces = new Map<string, OutboundPolicy>();
  private readonly hostCheck: ChainedCheck;
  private readonly tenantChecks = new Map<string, ChainedCheck>();

  /** `outbound` may be a policy already built (an `HttpProvider`'s option). */
  constructor(
    options: {
      outbound?: OutboundOptions | OutboundPolicy;
      tenantOutbound?: TenantOutboundOptions;
    } = {},
  ) {
    const outbound = options.outbound ?? {};
    this.host = outbound instanceof OutboundPolicy ? outbound : new OutboundPolicy(outbound);
    const tenant = options.tenantOutbound ?? {};
    if (typeof tenant !== 'object' || tenant === null) {
      throw new TypeError('createGateway: option "tenantOutbound" must be an object.');
    }
    const { spaces = {}, ...rest } = tenant;
    this.tenantDefault = new OutboundPolicy({ ...TENANT_DEFAULT, ...rest });
    if (typeof spaces !== 'object' || spaces === null) {
      throw new TypeError('tenantOutbound.spaces must be an object of space -> options.');
    }
    for (const [space, policy] of Object.entries(spaces)) {
      this.tenantSpaces.set(space, new OutboundPolicy({ ...TENANT_DEFAULT, ...policy }));
    }
    const protect = outbound instanceof OutboundPolicy ? [] : (outbound.protect ?? []);
    if (!Array.isArray(protect)) throw new TypeError('outbound.protect must be an array.');
    for (const endpoint of protect) this.protectedEndpoints.add(endpoint);
    this.hostCheck = new ChainedCheck(this.protectedEndpoints, [this.host]);
  }

  /** The check for a function record: the host's, or its space's tenant chain. */
  forFunction(fn: FunctionWriter): OutboundCheck {
    return this.forWriter(fn.space, fn.writer);
  }

  /** The check for what a writer may register in a space. */
  forWriter(space: string, writer: 'tenant' | undefined): OutboundCheck {
    if (writer !== 'tenant') return this.hostCheck;
    let check = this.tenantChecks.get(space);
    if (!check) {
      const tenant = this.tenantSpaces.get(space) ?? this.tenantDefault;
      check = new ChainedCheck(this.protectedEndpoints, [this.host, tenant]);
      this.tenantChecks.set(space, check);
    }
    return check;
  }
}

/** The gateway's own endpoints, then each policy in turn: the first problem wins. */
class ChainedCheck implements OutboundCheck {
  readonly credentials: 'send' | 'refuse';

  constructor(
    private readonly endpoints: ProtectedEndpoints,
    private readonly policies: readonly OutboundPolicy[],
  ) {
    this.credentials = policies.some((p) => p.credentials === 'refuse') ? 'refuse' : 'send';
  }

  urlProblem(url: URL): string | undefined {
    const host = normalizeHostName(url.hostname);
    const port = urlPort(url);
    const literal = isIP(host) !== 0 ? host : undefined;
    const own = this.endpoints.problem(host, literal, port);
    if (own) return own;
    for (const policy of this.policies) {
      const problem = policy.urlProblem(url);
      if (problem) return problem;
    }
    return undefined;
  }

  addressProblem(address: string, family: 4 | 6, host?: string, port?: number) {
    if (port !== undefined) {
      const own = this.endpoints.problem(host, address, port);
      if (own) return own;
    }
    for (const policy of this.policies) {
      const problem = policy.addressProblem(address, family, host);
      if (problem) return problem;
    }
    return undefined;
  }
}
