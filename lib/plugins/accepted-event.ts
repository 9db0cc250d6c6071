import type { CloudEvent } from '../model/cloud-event';
import type { IntakeVia } from './intake-plugin';

/**
 * An event the pipeline accepted (parsed once, with the gateway's limits), as a way in that is
 * not the pipeline's own (replay, a source) holds it between accepting and emitting it: it can
 * read the event and set the gateway's own extensions on it, and cannot make one up.
 */
export interface AcceptedEvent {
  readonly event: CloudEvent;
  readonly space: string;
  readonly method: string;
  readonly path: string;
  readonly via: IntakeVia;
  /** The same accepted event with one extension set (or removed, with `undefined`). */
  withExtension(name: string, value: string | undefined): AcceptedEvent;
}
