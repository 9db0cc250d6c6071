// Secrets in function records (AWS keys, URL userinfo, query strings and fragments) never leave
// through the Configuration API, `config.changed`, errors or logs; a masked secret given back
// keeps the stored one only while the function points where it did.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { request } from 'undici';
import {
  createConfigHandler,
  redactUrl,
  SECRET_MASK,
  type ApiKey,
  type FunctionRecord,
  type Gateway,
} from '../../lib';
import { hideSecrets } from '../../lib/model/function-secrets';
import { killChildren, start } from '../cli/cli-process';
import { deliveryGateways } from '../helpers/delivery-gateway';
import { cloudEvent } from '../helpers/events';
import { FunctionServer, json } from '../helpers/function-server';
import { dump } from '../helpers/gateway';

jest.setTimeout(60_000);

const deliveryGateway = deliveryGateways({ initialDelay: 5, maxDelay: 20, maxAttempts: 1 });
/** The functions here listen on loopback: tenants (API keys) may reach it in these tests. */
const newGateway = () => deliveryGateway({ tenantOutbound: { allowLoopback: true } });
const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

const PW = 'hunter2pw';
const TOKEN = 't0ken-value';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
/** Anything that would show a secret: the password, the token, the Basic header, the AWS key. */
const LEAK = new RegExp(
  [PW, TOKEN, Buffer.from(`user:${PW}`).toString('base64'), AWS_SECRET.slice(0, 12)].join('|'),
);
/** `http://127.0.0.1:1234/` with the secrets in: `http://user:PW@127.0.0.1:1234/x?token=TOKEN`. */
const withSecrets = (base: string, scheme = 'http') =>
  base.replace(/^http:\/\//, `${scheme}://user:${PW}@`) + `x?token=${TOKEN}`;
const masked = (base: string, scheme = 'http') =>
  base.replace(/^http:\/\//, `${scheme}://${SECRET_MASK}@`) + `x?${SECRET_MASK}`;

const SQS = {
  queueUrl: `https://user:${PW}@127.0.0.1:1/123456789012/jobs?token=${TOKEN}`,
  region: 'us-east-1',
  endpoint: `http://127.0.0.1:1/?token=${TOKEN}`,
  awsAccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  awsSecretAccessKey: AWS_SECRET,
};
const SQS_MASKED = {
  ...SQS,
  queueUrl: `https://${SECRET_MASK}@127.0.0.1:1/123456789012/jobs?${SECRET_MASK}`,
  endpoint: `http://127.0.0.1:1/?${SECRET_MASK}`,
  awsSecretAccessKey: SECRET_MASK,
};

const API_KEYS: ApiKey[] = [
  { name: 'reader', hash: sha256('reader'), spaces: '*', scopes: ['read'] },
  { name: 'writer', hash: sha256('writer'), spaces: '*', scopes: ['read', 'write'] },
];

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** The Configuration API over node:http with a read-only and a read-write key. */
async function configApi(gateway: Gateway) {
  const server = createServer(createConfigHandler(gateway, { apiKeys: API_KEYS }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/spaces/default`;
  return async (key: 'reader' | 'writer', method: string, path: string, body?: unknown) => {
    const res = await request(base + path, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, text, json: () => JSON.parse(text) };
  };
}

async function functionAt(server: FunctionServer) {
  stops.push(() => server.stop());
  return server;
}

test('a read-only key reads function URLs with their userinfo and query masked, in get and list', async () => {
  const fn = await functionAt(await FunctionServer.start());
  const { gateway } = await newGateway();
  await gateway.registerFunction({
    functionId: 'hook',
    type: 'http',
    provider: { url: withSecrets(fn.url) + '#frag-secret' },
    metadata: { team: 'a' },
  });
  await gateway.registerFunction({ functionId: 'jobs', type: 'awssqs', provider: SQS });
  await gateway.registerFunction({ functionId: 'plain', type: 'http', provider: { url: fn.url } });
  const api = await configApi(gateway);

  const got = await api('reader', 'GET', '/functions/hook');
  expect(got.status).toBe(200);
  expect(got.json().provider.url).toBe(masked(fn.url) + `#${SECRET_MASK}`);
  expect(got.text).not.toMatch(LEAK);
  expect(got.text).not.toContain('frag-secret');
  expect((await api('reader', 'GET', '/functions/jobs')).json().provider).toEqual(SQS_MASKED);
  // A URL without secrets reads as written.
  expect((await api('reader', 'GET', '/functions/plain')).json().provider.url).toBe(fn.url);

  for (const path of ['/functions', '/functions?metadata.team=a']) {
    const listed = await api('reader', 'GET', path);
    expect(listed.status).toBe(200);
    expect(listed.text).not.toMatch(LEAK);
    expect(listed.json().functions[0].provider.url).toBe(masked(fn.url) + `#${SECRET_MASK}`);
  }
  expect((await api('reader', 'GET', '/functions?metadata.team=a')).json().functions).toHaveLength(
    1,
  );
  // There is no way to ask the API for secrets, whatever the key.
  for (const key of ['reader', 'writer'] as const) {
    for (const path of ['/functions/hook?secrets=true', '/functions?secrets=true']) {
      const answer = await api(key, 'GET', path);
      expect(answer.status).toBe(200);
      expect(answer.text).not.toMatch(LEAK);
    }
  }
  // Host code asks for them.
  expect(gateway.getFunction({ functionId: 'hook', secrets: true }).provider.url).toBe(
    withSecrets(fn.url) + '#frag-secret',
  );
  expect(gateway.listFunctions({ secrets: true })[1].provider).toEqual(SQS);
  expect(inspect(gateway.listFunctions(), { depth: 9 })).not.toMatch(LEAK);
});

test('config.changed listeners get function URLs masked (record and prev)', async () => {
  const { gateway } = await newGateway();
  const seen: string[] = [];
  gateway.on('config.changed', (changes) => seen.push(JSON.stringify(changes)));
  const url = withSecrets('http://127.0.0.1:9/');
  await gateway.registerFunction({ functionId: 'hook', type: 'http', provider: { url } });
  await gateway.registerFunction({ functionId: 'jobs', type: 'awssqs', provider: SQS });
  await gateway.updateFunction({
    functionId: 'hook',
    type: 'http',
    provider: { url },
    metadata: { v: '2' },
  });
  await gateway.deleteFunction({ functionId: 'hook' });
  const all = seen.join('\n');
  expect(seen.length).toBeGreaterThanOrEqual(4);
  expect(all).not.toMatch(LEAK);
  expect(all).toContain(JSON.stringify(masked('http://127.0.0.1:9/')));
});

test('errors and events of a failed delivery show neither the URL secrets nor an answer echoing them', async () => {
  // The function echoes what it received: the request line and the Authorization header.
  const echo = await functionAt(
    await FunctionServer.start((_n, req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`bad request ${req.url} auth=${req.headers.authorization} (user:${PW})`);
    }),
  );
  // A plain HTTP server called over https: the TLS handshake fails.
  const plain = await functionAt(await FunctionServer.start(json(200, {})));
  const { gateway, deadLetters } = await newGateway();
  const failures: unknown[] = [];
  gateway.on('function.invocationFailed', (failure) => failures.push(failure));
  await gateway.createEventType({ name: 'user.created' });
  for (const [functionId, url] of [
    ['echo', withSecrets(echo.url)],
    ['tls', withSecrets(plain.url, 'https')],
  ]) {
    await gateway.registerFunction({ functionId, type: 'http', provider: { url } });
    await gateway.subscribe({ eventType: 'user.created', functionId });
  }
  const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
  expect(echo.requests[0].url).toBe(`/x?token=${TOKEN}`);
  expect(outcomes).toHaveLength(2);
  expect(deadLetters).toHaveLength(2);
  expect(failures).toHaveLength(2);
  const letters = new Map(deadLetters.map((letter) => [letter.functionId, letter]));
  expect(letters.get('echo')?.error.message).toMatch(
    /answered HTTP 500: bad request \/x\?\[redacted\] auth=Basic \[redacted\] \(\[redacted\]\)/,
  );
  expect(letters.get('tls')?.error.message).toContain(
    `could not be reached at ${masked(plain.url, 'https')}`,
  );
  for (const shown of [outcomes, deadLetters, failures]) {
    expect(JSON.stringify(shown)).not.toMatch(LEAK);
    expect(inspect(shown, { depth: 9 })).not.toMatch(LEAK);
  }
});

test('the command logs a failed delivery without the URL secrets', async () => {
  // The function's 500 answer echoes the token it was called with.
  const fn = await functionAt(
    await FunctionServer.start((_n, req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`no such token: ${req.url}`);
    }),
  );
  stops.push(killChildren);
  const gateway = await start(['--dev', '--log-format', 'json']);
  const config = `${gateway.config}/v1/spaces/default`;
  const post = async (path: string, body: unknown) => {
    const res = await request(config + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.statusCode).toBe(201);
    return res.body.json();
  };
  await post('/eventtypes', { name: 'user.created' });
  const created = (await post('/functions', {
    functionId: 'hook',
    type: 'http',
    provider: { url: withSecrets(fn.url) },
    retry: { maxAttempts: 1 },
  })) as FunctionRecord;
  await post('/subscriptions', { type: 'async', eventType: 'user.created', functionId: 'hook' });
  const emitted = await request(`${gateway.events}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(cloudEvent('user.created')),
  });
  expect(emitted.statusCode).toBe(202);
  await emitted.body.dump();
  const deadline = Date.now() + 20_000;
  while (!gateway.output().includes('delivery failed for good') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(gateway.output()).toContain('delivery failed for good');
  expect(gateway.output()).toContain('no such token: /x?[redacted]');
  expect(gateway.output()).not.toMatch(LEAK);
  expect(created.provider.url).toBe(masked(fn.url));
});

test('a masked secret given back keeps the stored one while the function points where it did', async () => {
  const fn = await functionAt(await FunctionServer.start());
  const { gateway, store } = await newGateway();
  await gateway.createEventType({ name: 'user.created' });
  await gateway.registerFunction({
    functionId: 'hook',
    type: 'http',
    provider: { url: withSecrets(fn.url) },
  });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'hook' });
  await gateway.registerFunction({ functionId: 'jobs', type: 'awssqs', provider: SQS });
  const api = await configApi(gateway);

  // What a writer read, written back with new metadata and timeout: the secrets stay.
  const read = (await api('writer', 'GET', '/functions/hook')).json();
  expect(read.provider.url).toBe(masked(fn.url));
  const put = await api('writer', 'PUT', '/functions/hook', {
    ...read,
    provider: { ...read.provider, timeout: 5000 },
    metadata: { v: '2' },
  });
  expect(put.status).toBe(200);
  expect(put.text).not.toMatch(LEAK);
  expect(gateway.getFunction({ functionId: 'hook', secrets: true }).provider).toEqual({
    url: withSecrets(fn.url),
    timeout: 5000,
  });
  expect(JSON.stringify(await dump(store))).toContain(withSecrets(fn.url));
  await gateway.emit(cloudEvent('user.created'), { wait: true });
  expect(fn.requests[0].headers.authorization).toBe(
    'Basic ' + Buffer.from(`user:${PW}`).toString('base64'),
  );
  expect(fn.requests[0].url).toBe(`/x?token=${TOKEN}`);

  // One part masked, another sent anew: the masked one stays, the new one is taken.
  const partial = await api('writer', 'PUT', '/functions/hook', {
    type: 'http',
    provider: { url: masked(fn.url).replace(`?${SECRET_MASK}`, '?token=new') },
  });
  expect(partial.status).toBe(200);
  await gateway.emit(cloudEvent('user.created'), { wait: true });
  expect(fn.requests[1].url).toBe('/x?token=new');
  expect(fn.requests[1].headers.authorization).toBe(fn.requests[0].headers.authorization);

  // AWS secrets and URLs alike, by host code too.
  await gateway.updateFunction({ ...gateway.getFunction({ functionId: 'jobs' }), metadata: {} });
  expect(gateway.getFunction({ functionId: 'jobs', secrets: true }).provider).toEqual(SQS);
  const viaApi = (await api('writer', 'GET', '/functions/jobs')).json();
  expect((await api('writer', 'PUT', '/functions/jobs', viaApi)).status).toBe(200);
  expect(gateway.getFunction({ functionId: 'jobs', secrets: true }).provider).toEqual(SQS);
});

describe('a masked secret does not follow the function elsewhere: the update is refused', () => {
  const httpUrl = withSecrets('http://127.0.0.1:8080/');
  const maskedHttp = masked('http://127.0.0.1:8080/');
  const LAMBDA = {
    arn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
    region: 'us-east-1',
    awsAccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    awsSecretAccessKey: AWS_SECRET,
  };
  const LAMBDA_MASKED = { ...LAMBDA, awsSecretAccessKey: SECRET_MASK };

  test.each([
    ['hook', 'a new host', { url: maskedHttp.replace('127.0.0.1', 'localhost') }],
    ['hook', 'a new port', { url: maskedHttp.replace(':8080', ':8081') }],
    ['hook', 'a new path', { url: maskedHttp.replace('/x?', '/y?') }],
    ['hook', 'a new scheme', { url: maskedHttp.replace('http:', 'https:') }],
    [
      'jobs',
      'a new queue URL',
      { ...SQS_MASKED, queueUrl: SQS_MASKED.queueUrl.replace('jobs', 'q') },
    ],
    ['jobs', 'a new endpoint', { ...SQS_MASKED, endpoint: 'http://127.0.0.2:1/' }],
    ['jobs', 'no endpoint', { ...SQS_MASKED, endpoint: undefined }],
    ['jobs', 'a new region', { ...SQS_MASKED, region: 'eu-west-1' }],
    ['jobs', 'a new access key', { ...SQS_MASKED, awsAccessKeyId: 'AKIAOTHER' }],
    ['lambda', 'a new ARN', { ...LAMBDA_MASKED, arn: LAMBDA.arn.replace(':f', ':g') }],
    ['lambda', 'a new endpoint', { ...LAMBDA_MASKED, endpoint: 'http://127.0.0.1:2/' }],
  ])('%s with %s', async (functionId, _what, provider) => {
    const { gateway, store } = await newGateway();
    await gateway.registerFunction({
      functionId: 'hook',
      type: 'http',
      provider: { url: httpUrl },
    });
    await gateway.registerFunction({ functionId: 'jobs', type: 'awssqs', provider: SQS });
    await gateway.registerFunction({ functionId: 'lambda', type: 'awslambda', provider: LAMBDA });
    const api = await configApi(gateway);
    const type = gateway.getFunction({ functionId }).type;
    const before = await dump(store);
    const answer = await api('writer', 'PUT', `/functions/${functionId}`, { type, provider });
    expect(answer.status).toBe(400);
    expect(answer.json().errors[0].message).toMatch(
      /is "\[redacted\]", but where the function points changed \(.+\): the secret must be sent again\./,
    );
    expect(answer.text).not.toMatch(LEAK);
    await expect(gateway.updateFunction({ functionId, type, provider })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: /must be sent again/,
    });
    expect(await dump(store)).toEqual(before);
  });

  test('a new type, or a mask where no secret is stored; the secret sent again is taken', async () => {
    const { gateway, store } = await newGateway();
    await gateway.registerFunction({ functionId: 'jobs', type: 'awssqs', provider: SQS });
    await gateway.registerFunction({
      functionId: 'plain',
      type: 'http',
      provider: { url: 'http://127.0.0.1:8080/x' },
    });
    const api = await configApi(gateway);
    const before = await dump(store);
    const retyped = await api('writer', 'PUT', '/functions/jobs', {
      type: 'awslambda',
      provider: { ...LAMBDA, awsSecretAccessKey: SECRET_MASK },
    });
    expect(retyped.status).toBe(400);
    expect(retyped.json().errors[0].message).toMatch(/points changed \(type, .*must be sent again/);
    for (const url of [
      `http://${SECRET_MASK}@127.0.0.1:8080/x`,
      `http://127.0.0.1:8080/x?${SECRET_MASK}`,
      `http://127.0.0.1:8080/x#${SECRET_MASK}`,
    ]) {
      const answer = await api('writer', 'PUT', '/functions/plain', {
        type: 'http',
        provider: { url },
      });
      expect(answer.status).toBe(400);
      expect(answer.json().errors[0].message).toMatch(/no such secret is stored to keep/);
    }
    expect(await dump(store)).toEqual(before);
    // Sent again, the secrets go with the function to its new place.
    const moved = { ...SQS, region: 'eu-west-1', endpoint: 'http://127.0.0.2:1/' };
    expect(
      (await api('writer', 'PUT', '/functions/jobs', { type: 'awssqs', provider: moved })).status,
    ).toBe(200);
    expect(gateway.getFunction({ functionId: 'jobs', secrets: true }).provider).toEqual(moved);
  });
});

test('a mask is refused on create: there is nothing to keep', async () => {
  const { gateway, store } = await newGateway();
  const api = await configApi(gateway);
  for (const provider of [
    { url: masked('http://127.0.0.1:8080/') },
    { url: `http://127.0.0.1:8080/x?${SECRET_MASK}` },
  ]) {
    const answer = await api('writer', 'POST', '/functions', {
      functionId: 'f',
      type: 'http',
      provider,
    });
    expect(answer.status).toBe(400);
    expect(answer.json().errors[0].message).toMatch(/no such secret is stored to keep/);
  }
  const aws = await api('writer', 'POST', '/functions', {
    functionId: 'f',
    type: 'awssqs',
    provider: SQS_MASKED,
  });
  expect(aws.status).toBe(400);
  expect(await dump(store)).toEqual({});
});

test('validation errors never quote a function URL that is no http(s) URL', async () => {
  const { gateway } = await newGateway();
  for (const url of [`user:${PW}@host/x?token=${TOKEN}`, `//user:${PW}@host/x?token=${TOKEN}`]) {
    const error = await gateway
      .registerFunction({ functionId: 'f', type: 'http', provider: { url } })
      .catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', message: /"provider\.url" must be/ });
    expect((error as Error).message).not.toMatch(LEAK);
  }
});

test('redactUrl shows scheme, host, port and path; a text cut short never shows half a secret', () => {
  expect(redactUrl(`https://user:${PW}@Host.example:8443/a/../hook?token=${TOKEN}#f`)).toBe(
    'https://[redacted]@host.example:8443/hook?[redacted]#[redacted]',
  );
  expect(redactUrl('https://host/hook')).toBe('https://host/hook');
  expect(redactUrl('not a url')).toBe('(an invalid URL)');
  const record = {
    space: 'default',
    functionId: 'f',
    type: 'http',
    provider: { url: withSecrets('http://127.0.0.1:1/') },
  };
  const text = 'x'.repeat(195) + `token=${TOKEN}`;
  expect(hideSecrets(text, record, 200)).toBe('x'.repeat(195) + '[reda');
  expect(hideSecrets(text, record)).toBe('x'.repeat(195) + '[redacted]');
});
