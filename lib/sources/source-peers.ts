import type { SourceOptions } from '../model/connection';
import { describeError } from '../model/describe-error';

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
 * SDK's default chain when none are given).
 * @example
 * ```ts
 * new SQSClient(awsClientConfig(record.source));
 * ```
 */
export function awsClientConfig(source: SourceOptions): Record<string, unknown> {
  return {
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
