import { ValidationError } from '../../lib';

/**
 * Runs a write again while a restarted server comes back (a CommitUnknownError included: the
 * tests' writes are idempotent). A ValidationError is the write's own fault: thrown at once.
 */
export async function retryWrite<T>(write: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if (error instanceof ValidationError || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
