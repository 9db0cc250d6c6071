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
 * post them (the Events API removes them) and a plugin cannot add them.
 */
export const GATEWAY_EXTENSIONS: ReadonlySet<string> = new Set([
  DELIVERY_ID,
  AUTHORIZATION,
  REPLAY_ID,
]);
