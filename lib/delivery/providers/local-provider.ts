import { InvocationError } from '../../errors';
import type { CloudEvent } from '../../events/cloudevent';
import type { FunctionRecord } from '../../model/function';
import type { InvocationContext, Provider } from '../provider';

/**
 * The `local` provider: calls the handler bound on this instance. A handler that throws fails the
 * attempt, retryably unless the error says `retryable: false`; one that ignores its abort signal
 * still times out.
 */
export class LocalProvider implements Provider {
  async invoke(
    fn: FunctionRecord,
    event: CloudEvent,
    context: InvocationContext,
  ): Promise<unknown> {
    const handler = context.localHandler;
    if (!handler) {
      throw new InvocationError(
        `No handler is bound on this instance for local function "${fn.functionId}" (register it here, or call bindLocalHandler).`,
        { retryable: false, resource: 'function', id: fn.functionId, space: fn.space },
      );
    }
    const { signal } = context;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([
        handler(event, { space: fn.space, functionId: fn.functionId, signal }),
        aborted,
      ]);
    } catch (error) {
      if (error instanceof InvocationError || signal.aborted) throw error;
      const err = error as Error & { retryable?: boolean };
      throw new InvocationError(
        `Function "${fn.functionId}" threw: ${err?.message ?? String(error)}`,
        {
          retryable: err?.retryable !== false,
          cause: error,
          resource: 'function',
          id: fn.functionId,
          space: fn.space,
        },
      );
    } finally {
      signal.removeEventListener('abort', onAbort as () => void);
    }
  }
}
