import type { Provider } from '../delivery/provider';
import { AwsClients } from '../delivery/providers/aws/aws-clients';
import { FirehoseProvider } from '../delivery/providers/aws/firehose-provider';
import { KinesisProvider } from '../delivery/providers/aws/kinesis-provider';
import { LambdaProvider } from '../delivery/providers/aws/lambda-provider';
import { SqsProvider } from '../delivery/providers/aws/sqs-provider';
import { HttpProvider } from '../delivery/providers/http-provider';
import { LocalProvider } from '../delivery/providers/local-provider';
import { describeError } from '../model/describe-error';
import type { ResolvedGatewayOptions } from '../options';
import type { Store } from '../store/store';

/**
 * A gateway's providers by function type: the built-in ones (http, local, and the AWS ones),
 * then those of the `providers` option (which may replace them). The store's own client
 * endpoints join the protected endpoints: a function pointed there could write the configuration.
 * @example
 * ```ts
 * const providers = gatewayProviders(resolveOptions({}), new MemoryStore());
 * ```
 */
export function gatewayProviders(
  resolved: ResolvedGatewayOptions,
  store: Store,
): Map<string, Provider> {
  // Built for every gateway, cheap: the AWS SDK loads only when a delivery to AWS starts.
  const aws = new AwsClients({
    outbound: resolved.outboundPolicies,
    credentialHosts: resolved.aws.credentialHosts,
  });
  // The store's own client endpoints: a function pointed there could write the configuration.
  for (const endpoint of store.endpoints?.() ?? []) {
    resolved.outboundPolicies.protectedEndpoints.add(endpoint);
  }
  return new Map<string, Provider>([
    [
      'http',
      new HttpProvider({
        maxResponseBytes: resolved.maxResponseBytes,
        outbound: resolved.outboundPolicies,
      }),
    ],
    ['local', new LocalProvider()],
    ['awslambda', new LambdaProvider(aws)],
    ['awssqs', new SqsProvider(aws)],
    ['awskinesis', new KinesisProvider(aws)],
    ['awsfirehose', new FirehoseProvider(aws)],
    ...Object.entries(resolved.providers),
  ]);
}

/**
 * Closes every provider; one that fails is reported, and never keeps the others (or the gateway)
 * from closing.
 */
export async function closeProviders(
  providers: Iterable<Provider>,
  reportError: (error: Error) => void,
): Promise<void> {
  // A provider that fails to close must not keep the gateway from closing: it is reported.
  const closed = await Promise.allSettled([...providers].map(async (p) => p.close?.()));
  for (const outcome of closed) {
    if (outcome.status === 'rejected') {
      reportError(
        new Error(`A provider failed to close: ${describeError(outcome.reason)}`, {
          cause: outcome.reason,
        }),
      );
    }
  }
}
