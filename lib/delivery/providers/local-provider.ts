import { InvocationError } from '../../errors';
import type { CloudEvent } from '../../model/cloud-event';
import type { FunctionRecord } from '../../model/function';
import type { InvocationContext, Provider } from '../provider';

/**
 * The `local` provider: calls the handler bound on this instance and returns what it returns (a
 * value or a promise). A handler that throws fails the attempt, retryably unless the error says
 * `retryable: false`; the dispatcher times out one that never settles.
 */
export class LocalProvider implements Provider {
  invoke(fn: FunctionRecord, event: CloudEvent, context: InvocationContext): unknown {
    const handler = context.localHandler;
    if (!handler) {
      throw new InvocationError(
        `No handler is bound on this instance for local function "${fn.functionId}" (register it here, or call bindLocalHandler).`,
        { retryable: false, resource: 'function', id: fn.functionId, space: fn.space },
      );
    }
    return handler(event, context);
  }
}
