import type { Delivery } from '../delivery/delivery';
import type { Dispatcher } from '../delivery/dispatcher';
import { GatewayClosedError } from '../errors';
import type { Journal } from '../journal/journal';
import { journalFailure } from '../journal/journal-failure';
import type { DeliveryTrace } from '../tracing/delivery-trace';

/** A trace's context as a journal entry keeps it. */
function traceOf(trace: DeliveryTrace): { traceparent: string; tracestate?: string } {
  const { traceparent, tracestate } = trace;
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/**
 * The pipeline's record stage: records an event's deliveries in the journal before they are
 * accepted, so that `emit` resolves once they are durable. Room is reserved first and given back
 * when the journal fails (nothing is accepted then). With a shared journal the deliveries are
 * made by whichever instance it hands them to (maybe this one), so no room is taken here.
 * Rejects with the dispatcher's refusal (no room, closing) or JournalUnavailableError.
 */
export async function recordDeliveries(
  journal: Journal,
  dispatcher: Dispatcher,
  tasks: readonly Delivery[],
  /** Settles once the journal is open (records wait for it). */
  opened: Promise<unknown>,
): Promise<void> {
  const here = !journal.shared;
  if (here) dispatcher.reserve(tasks.length, tasks[0].space);
  else if (dispatcher.closing) {
    throw new GatewayClosedError('The gateway is closing; it accepts no more events.');
  }
  const acceptedAt = Date.now();
  try {
    await opened;
    await journal.record(
      tasks.map((task) => ({
        deliveryId: task.deliveryId as string,
        space: task.space,
        event: task.event,
        subscriptionId: task.subscription.subscriptionId,
        functionId: task.fn.functionId,
        attempts: 0,
        acceptedAt,
        // Traced: the acceptance span, for the attempts of a resumed delivery.
        ...(task.trace && traceOf(task.trace)),
      })),
    );
  } catch (error) {
    if (here) dispatcher.unreserve(tasks.length, tasks[0].space);
    throw journalFailure(error, 'could not record the event (nothing was accepted)');
  }
  if (here) dispatcher.acceptReserved(tasks);
}
