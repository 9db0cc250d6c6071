import { MemoryStore, SECRET_MASK } from '../../lib';
import { gatewayFixture, dump } from '../helpers/gateway';

const newGateway = gatewayFixture();
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const PROVIDER = {
  queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
  region: 'us-east-1',
  awsAccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  awsSecretAccessKey: SECRET,
  awsSessionToken: 'token-secret',
};

test('AWS secrets are never returned by get, list, register or update unless asked for', async () => {
  const store = new MemoryStore();
  const { gateway } = await newGateway(store);
  const registered = await gateway.registerFunction({
    functionId: 'jobs',
    type: 'awssqs',
    provider: PROVIDER,
  });
  const masked = { ...PROVIDER, awsSecretAccessKey: SECRET_MASK, awsSessionToken: SECRET_MASK };
  expect(registered.provider).toEqual(masked);
  expect(gateway.getFunction({ functionId: 'jobs' }).provider).toEqual(masked);
  expect(gateway.listFunctions()[0].provider).toEqual(masked);
  expect(JSON.stringify(gateway.listFunctions())).not.toContain(SECRET);
  expect(gateway.getFunction({ functionId: 'jobs', secrets: true }).provider).toEqual(PROVIDER);
  expect(gateway.listFunctions({ secrets: true })[0].provider).toEqual(PROVIDER);

  // A record read without secrets can be written back: the mask keeps what is stored.
  const read = gateway.getFunction({ functionId: 'jobs' });
  await gateway.updateFunction({ ...read, metadata: { team: 'a' } });
  expect(gateway.getFunction({ functionId: 'jobs', secrets: true })).toMatchObject({
    provider: PROVIDER,
    metadata: { team: 'a' },
  });
  expect(JSON.stringify(await dump(store))).toContain(SECRET);
});

test('the mask is refused where no secret is stored to keep', async () => {
  const { gateway } = await newGateway();
  await expect(
    gateway.registerFunction({
      functionId: 'jobs',
      type: 'awssqs',
      provider: { ...PROVIDER, awsSecretAccessKey: SECRET_MASK },
    }),
  ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /no such secret is stored/ });
  await gateway.registerFunction({
    functionId: 'plain',
    type: 'awssqs',
    provider: { queueUrl: PROVIDER.queueUrl, region: 'us-east-1' },
  });
  await expect(
    gateway.updateFunction({
      functionId: 'plain',
      type: 'awssqs',
      provider: { ...PROVIDER, awsSessionToken: SECRET_MASK },
    }),
  ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
});

test('an access key without its secret is refused, and endpoints must be http(s) URLs', async () => {
  const { gateway } = await newGateway();
  await expect(
    gateway.registerFunction({
      functionId: 'half',
      type: 'awslambda',
      provider: {
        arn: 'arn:aws:lambda:us-east-1:1:function:f',
        region: 'us-east-1',
        awsAccessKeyId: 'AKIA',
      },
    }),
  ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /go together/ });
  await expect(
    gateway.registerFunction({
      functionId: 'meta',
      type: 'awslambda',
      provider: { arn: 'f', region: 'us-east-1', endpoint: 'http://169.254.169.254/' },
    }),
  ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /provider.endpoint/ });
});

test('config.changed listeners see function records with their secrets masked', async () => {
  const { gateway } = await newGateway();
  const seen: string[] = [];
  gateway.on('config.changed', (changes) => seen.push(JSON.stringify(changes)));
  await gateway.registerFunction({ functionId: 'jobs', type: 'awssqs', provider: PROVIDER });
  expect(seen.join('')).toContain('"awsSecretAccessKey":"[redacted]"');
  expect(seen.join('')).not.toContain(SECRET);
});
