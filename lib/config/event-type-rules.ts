import { AlreadyExistsError, ConflictError, NotFoundError } from '../errors';
import { toEventTypeRecord, type EventTypeInput, type EventTypeRecord } from '../model/event-type';
import type { RuleContext, WritePlan } from './write-plan';

/** `Event Type "X" not found.` */
export function eventTypeNotFound(space: string, name: string): NotFoundError {
  return new NotFoundError(`Event Type "${name}" not found.`, {
    resource: 'eventType',
    id: name,
    space,
  });
}

/** The record, or NotFoundError. */
export function requireEventType(ctx: RuleContext, space: string, name: string): EventTypeRecord {
  const record = ctx.catalog.get('eventtypes', space, name);
  if (!record) throw eventTypeNotFound(space, name);
  return record;
}

function authorizerCompares(ctx: RuleContext, record: EventTypeRecord) {
  if (record.authorizerId === undefined) return [];
  if (!ctx.catalog.get('functions', record.space, record.authorizerId)) {
    throw new ConflictError(`Authorizer function doesn't exists.`, 'missing-reference', {
      resource: 'function',
      id: record.authorizerId,
      space: record.space,
    });
  }
  return [{ key: ctx.layout.key('functions', record.space, record.authorizerId), exists: true }];
}

export function planCreateEventType(
  ctx: RuleContext,
  input: EventTypeInput,
  space: string,
): WritePlan<EventTypeRecord> {
  const record = toEventTypeRecord(input, space);
  const key = ctx.layout.key('eventtypes', record.space, record.name);
  if (ctx.catalog.get('eventtypes', record.space, record.name)) {
    throw new AlreadyExistsError(`Event Type "${record.name}" already exists.`, {
      resource: 'eventType',
      id: record.name,
      space: record.space,
    });
  }
  return {
    compares: [{ key, modRevision: 0 }, ...authorizerCompares(ctx, record)],
    operations: [{ type: 'put', key, value: JSON.stringify(record) }],
    result: record,
  };
}

export function planUpdateEventType(
  ctx: RuleContext,
  input: EventTypeInput,
  space: string,
): WritePlan<EventTypeRecord> {
  const record = toEventTypeRecord(input, space);
  requireEventType(ctx, record.space, record.name);
  const key = ctx.layout.key('eventtypes', record.space, record.name);
  return {
    compares: [{ key, exists: true }, ...authorizerCompares(ctx, record)],
    operations: [{ type: 'put', key, value: JSON.stringify(record) }],
    result: record,
  };
}

export function planDeleteEventType(
  ctx: RuleContext,
  space: string,
  name: string,
): WritePlan<void> {
  requireEventType(ctx, space, name);
  for (const sub of ctx.catalog.values('subscriptions', space)) {
    if (sub.eventType === name) {
      throw new ConflictError(
        'Event type cannot be deleted because there are subscriptions using it.',
        'in-use',
        { resource: 'eventType', id: name, space },
      );
    }
  }
  const key = ctx.layout.key('eventtypes', space, name);
  return {
    compares: [
      { key, exists: true },
      // No subscription was created since the catalog's revision: none can name this type.
      { prefix: ctx.layout.spacePrefix('subscriptions', space), maxModRevision: ctx.revision },
    ],
    operations: [{ type: 'delete', key }],
    result: undefined,
  };
}
