import { InvocationError } from '../../../errors';
import type { CloudEvent } from '../../../model/cloud-event';
import type { FunctionRecord } from '../../../model/function';
import type { InvocationContext, Provider } from '../../provider';
import type { AwsClients } from './aws-clients';
import { hideSecrets } from '../../../model/function-secrets';
import { awsFailure } from './aws-failure';

/** The longest excerpt of a failing Lambda's payload put into an error message. */
const EXCERPT = 200;

/**
 * The `awslambda` provider: invokes `provider.arn` synchronously (`RequestResponse`) with the
 * event as its payload. The function's returned payload is the result (parsed when it is JSON): a
 * sync subscription answers with it, as with an http function's body. A `FunctionError` is a
 * failure carrying the function's error payload; it is retried like an http function's 5xx
 * answer. Throttling, 5xx and network errors are retried; other errors are final.
 */
export class LambdaProvider implements Provider {
  constructor(private readonly clients: AwsClients) {}

  /** Destroys the SDK clients (shared by every AWS provider of the gateway). */
  async close(): Promise<void> {
    this.clients.close();
  }

  async invoke(
    fn: FunctionRecord,
    event: CloudEvent,
    context: InvocationContext,
  ): Promise<unknown> {
    let output: { FunctionError?: string; Payload?: Uint8Array };
    try {
      const client = this.clients.client('lambda', fn);
      const { InvokeCommand } = this.clients.module('lambda', fn);
      output = (await client.send(
        new InvokeCommand({
          FunctionName: fn.provider.arn,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(JSON.stringify(event)),
        }),
        { abortSignal: context.signal },
      )) as typeof output;
    } catch (error) {
      throw awsFailure(fn, error);
    }
    const text = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
    const payload = parsePayload(text);
    if (output.FunctionError) {
      const excerpt = text.length > EXCERPT ? text.slice(0, EXCERPT) + '…' : text;
      throw new InvocationError(
        hideSecrets(
          `Function "${fn.functionId}" (Lambda ${String(fn.provider.arn)}) failed: ${output.FunctionError}${excerpt ? `: ${excerpt}` : ''}`,
          fn,
        ),
        {
          retryable: true,
          payload,
          resource: 'function',
          id: fn.functionId,
          space: fn.space,
        },
      );
    }
    return payload;
  }
}

function parsePayload(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
