import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../errors';
import { Checks } from '../model/checks';
import {
  defaultKafkaGroup,
  sourceHolder,
  toConnectionRecord,
  type ConnectionInput,
  type ConnectionRecord,
} from '../model/connection';
import { keepStoredSecrets } from '../model/function-secrets';
import type { Compare } from '../store/store';
import { checkConnectionCount, checkScheduleInterval } from './connection-limits';
import { functionNotFound, writerOf, type WriteOptions } from './function-rules';
import type { RuleContext, WritePlan } from './write-plan';

/** `Connection "X" not found.` */
export function connectionNotFound(space: string, connectionId: string): NotFoundError {
  return new NotFoundError(`Connection "${connectionId}" not found.`, {
    resource: 'connection',
    id: connectionId,
    space,
  });
}

/** The record, or NotFoundError. */
export function requireConnection(
  ctx: RuleContext,
  space: string,
  connectionId: string,
): ConnectionRecord {
  const record = ctx.catalog.get('connections', space, connectionId);
  if (!record) throw connectionNotFound(space, connectionId);
  return record;
}

const checks = new Checks('connection');

/** The sources that sign their requests with AWS credentials. */
const AWS_SOURCES: readonly string[] = ['awssqs', 'awskinesis'];

/**
 * A tenant's Kafka connection consumes in its own group only. A group is shared by whoever names
 * it: another space's group (`event-gateway.<space>.<id>`), the host's, or the journal's would
 * give this connection their partitions, and their messages would be acknowledged as its events.
 * Its ID cannot hold a dot either: `acme` + `prod.orders` would be the default group of
 * `acme.prod` + `orders`.
 */
function checkTenantGroup(record: ConnectionRecord): void {
  const own = defaultKafkaGroup(record.space, record.connectionId);
  if (record.connectionId.includes('.')) {
    checks.fail(
      `a tenant's "kafka" connection cannot have a "." in its "connectionId": its consumer group (${own}) could be another space's.`,
    );
  }
  const { groupId } = record.source;
  if (groupId !== undefined && groupId !== own) {
    checks.fail(
      `a tenant's "kafka" connection consumes in its own group: "source.groupId" must be left out or be "${own}".`,
    );
  }
}

/** The input validated into a record written by the options' writer (stored only for a tenant). */
function recordOf(
  ctx: RuleContext,
  input: ConnectionInput,
  space: string,
  options: WriteOptions | undefined,
): ConnectionRecord {
  const writer = writerOf(options, checks);
  const record = toConnectionRecord(input, space, ctx.outboundFor(space, writer));
  if (writer === undefined) return record;
  // The tenant chose the queue or stream: the host's AWS role would read it for the tenant.
  if (AWS_SOURCES.includes(record.type) && record.source.awsAccessKeyId === undefined) {
    checks.fail(
      `a tenant's "${record.type}" connection needs its own "source.awsAccessKeyId" and "source.awsSecretAccessKey": the host's credentials are never used for it.`,
    );
  }
  if (record.type === 'kafka') checkTenantGroup(record);
  return { ...record, writer };
}

/**
 * The dead-letter function must exist when the connection is written, and still exist at the
 * revision the write commits at.
 */
function deadLetterCompares(ctx: RuleContext, record: ConnectionRecord): Compare[] {
  const functionId = record.deadLetter?.functionId;
  if (functionId === undefined) return [];
  if (!ctx.catalog.get('functions', record.space, functionId)) {
    throw functionNotFound(record.space, functionId);
  }
  return [{ key: ctx.layout.key('functions', record.space, functionId), exists: true }];
}

/** Masked secrets keep the stored ones only where the source still points where it did. */
function keepMaskedSecrets(
  given: ConnectionRecord,
  stored: ConnectionRecord | undefined,
): ConnectionRecord {
  const holder = sourceHolder(given);
  const kept = keepStoredSecrets(
    holder,
    stored && sourceHolder(stored),
    'the connection',
    (detail) => {
      throw new ValidationError(`Connection doesn't validate. Validation error: ${detail}`, {
        resource: 'connection',
        id: given.connectionId,
        space: given.space,
      });
    },
    'source',
  );
  return kept === holder ? given : { ...given, source: kept.provider };
}

/** Plans `createConnection`: a new ID when none is given, refused when the ID is taken. */
export function planCreateConnection(
  ctx: RuleContext,
  input: ConnectionInput,
  space: string,
  options?: WriteOptions,
): WritePlan<ConnectionRecord> {
  checks.object(input, 'the connection');
  const withId =
    input.connectionId === undefined ? { ...input, connectionId: randomUUID() } : input;
  const record = keepMaskedSecrets(recordOf(ctx, withId, space, options), undefined);
  if (ctx.catalog.get('connections', record.space, record.connectionId)) {
    throw new AlreadyExistsError(`Connection "${record.connectionId}" already exists.`, {
      resource: 'connection',
      id: record.connectionId,
      space: record.space,
    });
  }
  checkScheduleInterval(ctx, record);
  const limited = checkConnectionCount(ctx, record);
  const key = ctx.layout.key('connections', record.space, record.connectionId);
  return {
    compares: [{ key, modRevision: 0 }, ...deadLetterCompares(ctx, record), ...limited],
    operations: [{ type: 'put', key, value: JSON.stringify(record) }],
    result: record,
  };
}

/** Plans `updateConnection`: replaces every field; masked secrets keep the stored ones. */
export function planUpdateConnection(
  ctx: RuleContext,
  input: ConnectionInput,
  space: string,
  options?: WriteOptions,
): WritePlan<ConnectionRecord> {
  const given = recordOf(ctx, input, space, options);
  const stored = requireConnection(ctx, given.space, given.connectionId);
  const record = keepMaskedSecrets(given, stored);
  checkScheduleInterval(ctx, record);
  const key = ctx.layout.key('connections', record.space, record.connectionId);
  return {
    compares: [{ key, exists: true }, ...deadLetterCompares(ctx, record)],
    operations: [{ type: 'put', key, value: JSON.stringify(record) }],
    result: record,
  };
}

/** Plans `deleteConnection`: every instance stops running it when its cache applies the delete. */
export function planDeleteConnection(
  ctx: RuleContext,
  space: string,
  connectionId: string,
): WritePlan<void> {
  requireConnection(ctx, space, connectionId);
  const key = ctx.layout.key('connections', space, connectionId);
  return {
    compares: [{ key, exists: true }],
    operations: [{ type: 'delete', key }],
    result: undefined,
  };
}
