import { HOP_COUNT } from '../events/cloudevent';
import { AUTHORIZATION, REPLAY_ID } from '../events/gateway-extensions';
import type { AcceptedEvent } from '../plugins/accepted-event';
import type { ArchivedEvent } from '../plugins/archive-source';
import { authorizeEvent, type AuthorizerHost } from '../events/authorize-event';
import { acceptTraceOf } from '../tracing/accept-trace';

/** What screening an archived event needs of the gateway: its way in, and running authorizers. */
export interface ArchivedScreenHost extends AuthorizerHost {
  /**
   * The gateway's accept stage, as for a client's event (parsed once with the gateway's limits,
   * its hop counted, the gateway-only extensions removed); throws ValidationError or HopLimitError.
   */
  accept(event: Readonly<Record<string, unknown>>, where: ArchivedEvent): AcceptedEvent;
}

/**
 * `{ accepted }`: the archived event as it is replayed; or `{ refused }`: the reason it is not.
 * Screened as the Events API screens a client's event: accepted (validated, stripped of the
 * gateway-only extensions: a forged authorization, delivery ID or replay mark), then marked with the replay's ID and, when its type has an
 * authorizer (and `authorize`: not in a dry run), authorized again. The authorizer gets the
 * event (marked: it can tell a replay) and, as the request, what the archive kept of it: its
 * method and path, and no headers. Throws ValidationError for an invalid event.
 * @example
 * ```ts
 * const screened = await screenArchived(host, archived, replayId, true);
 * if ('refused' in screened) console.log(screened.refused);
 * ```
 */
export async function screenArchived(
  host: ArchivedScreenHost,
  archived: ArchivedEvent,
  replayId: string,
  authorize: boolean,
): Promise<{ readonly accepted: AcceptedEvent } | { readonly refused: string }> {
  const accepted = host
    .accept(withHopUncounted(archived.event), archived)
    .withExtension(REPLAY_ID, replayId);
  if (!authorize) return { accepted };
  const { method, path } = archived;
  const outcome = await authorizeEvent(host, archived.space, accepted.event, () => ({
    request: { method, path, headers: {} },
  }));
  if ('refused' in outcome || 'failed' in outcome) {
    const reason = 'refused' in outcome ? outcome.refused : outcome.failed.message;
    acceptTraceOf(accepted)?.failed(new Error(`refused by the authorizer: ${reason}`));
    return { refused: reason };
  }
  return { accepted: accepted.withExtension(AUTHORIZATION, outcome.authorization) };
}

/**
 * The archived event with one hop less than it was accepted with: emitting it again counts one
 * more hop, which a replay is not.
 */
function withHopUncounted(event: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...event };
  const hops = out[HOP_COUNT];
  if (typeof hops === 'number' && hops > 0) out[HOP_COUNT] = hops - 1;
  else delete out[HOP_COUNT];
  return out;
}
