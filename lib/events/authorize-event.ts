import { InvocationError } from '../errors';
import type { CloudEvent } from '../model/cloud-event';
import { describeError } from '../model/describe-error';

/** What running an event type's authorizer needs of the gateway (a `Gateway` is one). */
export interface AuthorizerHost {
  /** The event type, or undefined. @internal */
  findEventType(space: string, name: string): { readonly authorizerId?: string } | undefined;
  /**
   * Calls a function once, now; `shown` is what system events show in place of the payload.
   * @internal
   */
  callFunction(
    space: string,
    functionId: string,
    payload: unknown,
    shown?: unknown,
  ): Promise<unknown>;
  /** Reports a failure no client may see the details of. @internal */
  reportError(error: Error): void;
}

/**
 * The request an authorizer receives beside the event, as `{ event, request }`: the Events API's
 * HTTP request (method, canonical path, headers), or, for a replayed event, what its archive kept
 * of the request it came with (method and path; `headers` is empty: archives keep none, so an
 * authorizer that needs a credential refuses a replay).
 */
export interface AuthorizerRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The request to give an authorizer, made only when the event's type has one (copying a
 * request's headers is not free); `shown` is what system events show instead (credentials
 * redacted), when it differs.
 */
export type AuthorizerRequestOf = () => {
  readonly request: AuthorizerRequest;
  readonly shown?: AuthorizerRequest;
};

/**
 * An authorizer's outcome for one event:
 * - `{ authorization? }`: let through, with the authorization to attach (JSON text, as the
 *   `eventgatewayauthorization` extension); none when the type has no authorizer.
 * - `{ refused }`: the authorizer said no; its reason (at most 1,000 characters), fit for the
 *   client.
 * - `{ failed }`: the authorizer could not be called or answered what cannot be attached; the
 *   details are for the operator, never the client.
 */
export type Authorized =
  { readonly authorization?: string } | { readonly refused: string } | { readonly failed: Error };

/**
 * Runs the event type's authorizer, if it has one, with `{ event, request }`. The Events API and replay
 * both screen events through it: the event should already be stripped of the gateway-only
 * extensions (see `withoutGatewayExtensions`), so that an authorizer never sees a forged one.
 * Rejects only with what the call rejects with other than InvocationError (a closed gateway).
 * @example
 * ```ts
 * const outcome = await authorizeEvent(gateway, 'default', event, () => ({
 *   request: { method: 'POST', path: '/', headers: {} },
 * }));
 * if ('refused' in outcome) console.log('refused:', outcome.refused);
 * ```
 */
export async function authorizeEvent(
  host: AuthorizerHost,
  space: string,
  event: CloudEvent,
  requestOf: AuthorizerRequestOf,
): Promise<Authorized> {
  const authorizerId = host.findEventType(space, event.type)?.authorizerId;
  if (!authorizerId) return {};
  const { request, shown } = requestOf();
  let answer: unknown;
  try {
    answer = await host.callFunction(
      space,
      authorizerId,
      { event, request },
      shown && { event, request: shown },
    );
  } catch (error) {
    // The call's details reach the function.invocationFailed system event already.
    if (!(error instanceof InvocationError)) throw error;
    return {
      failed: new Error(`Authorizer function "${authorizerId}" failed: ${error.message}`, {
        cause: error,
      }),
    };
  }
  const result = (typeof answer === 'object' && answer !== null ? answer : {}) as {
    authorization?: unknown;
    error?: { message?: unknown };
  };
  if (typeof result.authorization === 'object' && result.authorization !== null) {
    try {
      return { authorization: JSON.stringify(result.authorization) };
    } catch (error) {
      const failed = new Error(
        `Authorizer function "${authorizerId}" answered an authorization JSON cannot write: ${describeError(error)}`,
      );
      host.reportError(failed);
      return { failed };
    }
  }
  return {
    refused:
      typeof result.error?.message === 'string' && result.error.message !== ''
        ? result.error.message.slice(0, 1000)
        : `Authorizer function "${authorizerId}" refused the event.`,
  };
}
