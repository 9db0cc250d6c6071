import type { CloudEvent } from '../../lib';

let n = 0;

/** A valid CloudEvents 1.0 event of a type. */
export function cloudEvent(
  type: string,
  data: unknown = { n: ++n },
  extra: Record<string, unknown> = {},
): CloudEvent {
  return { specversion: '1.0', id: `evt-${++n}`, source: '/tests', type, data, ...extra };
}
