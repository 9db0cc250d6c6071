import type { ConfigChange } from '../cache/catalog';
import type { FunctionRecord } from '../model/function';
import { withoutSecrets } from '../model/function-secrets';

/** A change as listeners see it: function records with their AWS secrets masked. */
export function withoutChangeSecrets(change: ConfigChange): ConfigChange {
  if (change.resource !== 'function') return change;
  return {
    ...change,
    ...(change.record ? { record: withoutSecrets(change.record as FunctionRecord) } : {}),
    ...(change.prev ? { prev: withoutSecrets(change.prev as FunctionRecord) } : {}),
  };
}
