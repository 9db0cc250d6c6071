import { SQSClient } from '@aws-sdk/client-sqs';
import { startMoto, type RunningMoto } from '../../scripts/servers';

export { startMoto, type RunningMoto };

/** Credentials moto accepts (any), and the region the tests use. */
export const AWS_TEST = {
  region: 'us-east-1',
  awsAccessKeyId: 'AKIDTESTTESTTEST',
  awsSecretAccessKey: 'moto-secret-never-shown',
} as const;

/**
 * Runs `body` with a moto server of its own and an SQS client for it (any credentials), then
 * destroys the client and stops the server, whatever `body` did.
 */
export async function withMotoSqs<T>(
  body: (sqs: SQSClient, moto: RunningMoto) => Promise<T>,
): Promise<T> {
  const moto = await startMoto();
  const sqs = new SQSClient({
    region: AWS_TEST.region,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  try {
    return await body(sqs, moto);
  } finally {
    sqs.destroy();
    await moto.stop();
  }
}
