export { startMoto, type RunningMoto } from '../../scripts/servers';

/** Credentials moto accepts (any), and the region the tests use. */
export const AWS_TEST = {
  region: 'us-east-1',
  awsAccessKeyId: 'AKIDTESTTESTTEST',
  awsSecretAccessKey: 'moto-secret-never-shown',
} as const;
