import type { ConnectionRecord } from '../model/connection';
import { describeError } from '../model/describe-error';
import type { OutboundCheck } from '../model/outbound-policy';
import { awsAgents } from './source-outbound';

/**
 * A source's client library (an optional peer dependency), required on first use, or an error
 * saying which connections need it and how to install it.
 * @example
 * ```ts
 * const sqs = requirePeer<SqsModule>('@aws-sdk/client-sqs', 'awssqs', '@aws-sdk/client-sqs@3');
 * ```
 */
export function requirePeer<T>(name: string, type: string, install: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
    return require(name) as T;
  } catch (error) {
    throw new Error(
      `${type} connections need the "${name}" package: npm install ${install} (${describeError(error)})`,
    );
  }
}

/**
 * The AWS SDK client configuration of an AWS source: its region, endpoint and credentials (the
 * SDK's default chain when none are given, for the host's own connections only), and an HTTP/1.1
 * request handler whose every connection passes `outbound` (the client's default HTTP/2 handler
 * is for SubscribeToShard, not used).
 * @example
 * ```ts
 * new SQSClient(awsClientConfig(record, context.outbound));
 * ```
 */
export function awsClientConfig(
  record: ConnectionRecord,
  outbound?: OutboundCheck,
): Record<string, unknown> {
  const { source } = record;
  if (record.writer === 'tenant' && source.awsAccessKeyId === undefined) {
    // Refused at write time too: a record from an older store must not get the host's role.
    throw new Error(
      `connection ${record.connectionId} was written by a tenant and has no AWS keys of its own: the host's credentials are never used for it.`,
    );
  }
  const { NodeHttpHandler } = requirePeer<{ NodeHttpHandler: new (options: unknown) => unknown }>(
    '@smithy/node-http-handler',
    record.type,
    '@smithy/node-http-handler@4',
  );
  return {
    requestHandler: new NodeHttpHandler(outbound ? awsAgents(outbound) : {}),
    region: source.region,
    maxAttempts: 3,
    ...(source.endpoint === undefined ? {} : { endpoint: source.endpoint }),
    ...(source.awsAccessKeyId === undefined
      ? {}
      : {
          credentials: {
            accessKeyId: source.awsAccessKeyId,
            secretAccessKey: source.awsSecretAccessKey,
            ...(source.awsSessionToken === undefined
              ? {}
              : { sessionToken: source.awsSessionToken }),
          },
        }),
  };
}
