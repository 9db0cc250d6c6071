import type { ConnectionRecord } from '../model/connection';
import { requireOptionalPeer } from '../model/optional-peer';
import type { OutboundCheck } from '../model/outbound-policy';
import { awsAgents } from './source-outbound';

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
  const { NodeHttpHandler } = requireOptionalPeer<{
    NodeHttpHandler: new (options: unknown) => unknown;
  }>('@smithy/node-http-handler', {
    feature: `${record.type} connections`,
    install: '@smithy/node-http-handler@4',
  });
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
