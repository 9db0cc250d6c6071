import { request } from 'undici';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEventsHandler, type GatewayOptions } from '../../lib';
import { cloudEvent } from '../helpers/events';
import { gatewayFixture } from '../helpers/gateway';
import { startLambda, type RunningLambda } from '../helpers/lambda-emulator';
import { AWS_TEST } from '../helpers/moto';

jest.setTimeout(90_000);

const HANDLERS = `
exports.echo = async (event) => ({ got: event.id, type: event.type, data: event.data });
exports.fail = async () => { throw new Error('the handler broke'); };
exports.page = async (event) => ({
  statusCode: 201,
  headers: { 'content-type': 'text/plain', 'x-from': 'lambda' },
  body: 'hello ' + event.data.params.name,
});
exports.slow = async () => { await new Promise((r) => setTimeout(r, 3000)); return 'late'; };
`;

let lambda: RunningLambda;
const newGateway = gatewayFixture();

beforeAll(async () => {
  lambda = await startLambda(HANDLERS, ['echo', 'fail', 'page', 'slow']);
});
afterAll(async () => {
  await lambda?.stop();
});

async function gatewayWith(handler: string, options: GatewayOptions = {}) {
  const { gateway } = await newGateway(undefined, {
    retry: { maxAttempts: 2, initialDelay: 1, maxDelay: 5 },
    ...options,
  });
  await gateway.registerFunction({
    functionId: handler,
    type: 'awslambda',
    provider: {
      arn: lambda.name(handler),
      endpoint: lambda.endpoint,
      ...AWS_TEST,
    },
  });
  await gateway.createEventType({ name: 'user.created' });
  await gateway.subscribe({ eventType: 'user.created', functionId: handler });
  return gateway;
}

test('the event is the payload; the function’s returned payload is the result', async () => {
  const gateway = await gatewayWith('echo');
  const event = cloudEvent('user.created', { name: 'Ada' });
  const { outcomes } = await gateway.emit(event, { wait: true });
  expect(outcomes?.[0]).toMatchObject({
    ok: true,
    attempts: 1,
    result: { got: event.id, type: 'user.created', data: { name: 'Ada' } },
  });
  expect(await gateway.invoke({ functionId: 'echo', payload: event })).toMatchObject({
    got: event.id,
  });
});

test('a FunctionError is a failure carrying the function’s error payload, retried like a 5xx', async () => {
  const gateway = await gatewayWith('fail');
  const outcome = (await gateway.emit(cloudEvent('user.created'), { wait: true })).outcomes?.[0];
  expect(outcome).toMatchObject({ ok: false, attempts: 2 });
  const error = outcome && !outcome.ok ? outcome.error : undefined;
  expect(error?.message).toMatch(
    /Function "fail" \(Lambda eg-test-fail\) failed: .*the handler broke/,
  );
  expect(error?.payload).toMatchObject({ errorMessage: 'the handler broke' });
});

test('a sync subscription is answered by the Lambda', async () => {
  const { gateway } = await newGateway();
  await gateway.registerFunction({
    functionId: 'page',
    type: 'awslambda',
    provider: { arn: lambda.name('page'), endpoint: lambda.endpoint, ...AWS_TEST },
  });
  await gateway.subscribe({
    type: 'sync',
    eventType: 'http.request',
    functionId: 'page',
    method: 'GET',
    path: '/hello/:name',
  });
  const server: Server = createServer(createEventsHandler(gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await request(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/hello/ada`,
    );
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-from']).toBe('lambda');
    expect(await res.body.text()).toBe('hello ada');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a function that does not exist is a final failure', async () => {
  const gateway = await gatewayWith('echo');
  await gateway.registerFunction({
    functionId: 'ghost',
    type: 'awslambda',
    provider: { arn: lambda.name('ghost'), endpoint: lambda.endpoint, ...AWS_TEST },
  });
  await expect(gateway.invoke({ functionId: 'ghost', payload: {} })).rejects.toMatchObject({
    retryable: false,
  });
});

test('an attempt past its timeout is aborted, and close() does not wait for it', async () => {
  const gateway = await gatewayWith('slow', { timeout: 300, drainTimeout: 50 });
  const started = Date.now();
  const outcome = (await gateway.emit(cloudEvent('user.created'), { wait: true })).outcomes?.[0];
  expect(outcome).toMatchObject({ ok: false, attempts: 2 });
  expect(outcome && !outcome.ok && outcome.error.message).toMatch(/timed out after 300 ms/);
  expect(Date.now() - started).toBeLessThan(2500);
});
