import { withExtension } from './cloudevent';
import type { CloudEvent } from '../model/cloud-event';

/** The CloudEvents extension that carries a journaled delivery's ID. */
export const DELIVERY_ID = 'deliveryid';

/** The extension the Events API attaches an authorizer's answer as (JSON text). */
export const AUTHORIZATION = 'eventgatewayauthorization';

/**
 * The extension marking a replayed event (`gateway.replay`), holding the replay's ID: functions
 * can tell a replay, and archives do not keep it twice.
 */
export const REPLAY_ID = 'eventgatewayreplay';

/**
 * The extensions only the gateway sets: functions and archives trust them, so a client cannot
 * post them and an archived record cannot bring them back (the Events API and replay remove
 * them) and a plugin cannot add them.
 */
export const GATEWAY_EXTENSIONS: ReadonlySet<string> = new Set([
  DELIVERY_ID,
  AUTHORIZATION,
  REPLAY_ID,
]);

/**
 * The event without the extensions only the gateway sets (see {@link GATEWAY_EXTENSIONS}): what
 * an untrusted side sends (an Events API client, an archived record being replayed) is stripped
 * of them before anything reads it. The same event when it carries none.
 * @example
 * ```ts
 * withoutGatewayExtensions(posted).eventgatewayauthorization; // undefined, whatever was posted
 * ```
 */
export function withoutGatewayExtensions(event: CloudEvent): CloudEvent {
  let out = event;
  for (const name of GATEWAY_EXTENSIONS) out = withExtension(out, name, undefined);
  return out;
}
