import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The heap after full collections, in bytes: what is still held, not what garbage the last
 * allocations left (a bound on `heapUsed` without a collection measures when V8 last collected).
 */
export function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
