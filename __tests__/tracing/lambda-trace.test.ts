// AWS Lambda functions get their attempt's trace context in the payload: the CloudEvents
// `traceparent` extension of the event the awslambda provider sends (Lambda's Invoke takes no
// headers of ours). A real handler (serverless-offline) answers what it received.
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { cloudEvent } from '../helpers/events';
import { gatewayFixture } from '../helpers/gateway';
import { startLambda, type RunningLambda } from '../helpers/lambda-emulator';
import { AWS_TEST } from '../helpers/moto';

jest.setTimeout(90_000);

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let lambda: RunningLambda;
const newGateway = gatewayFixture();

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  lambda = await startLambda(
    'exports.echo = async (event) => ({ traceparent: event.traceparent });',
    ['echo'],
  );
});
afterAll(async () => {
  await lambda?.stop();
  trace.disable();
  await provider.shutdown();
});

test("a Lambda function receives its attempt span's traceparent in the payload", async () => {
  const { gateway } = await newGateway();
  await gateway.registerFunction({
    functionId: 'echo',
    type: 'awslambda',
    provider: { arn: lambda.name('echo'), endpoint: lambda.endpoint, ...AWS_TEST },
  });
  await gateway.createEventType({ name: 'user.created' });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'echo' });
  const { outcomes } = await gateway.emit(cloudEvent('user.created', {}), { wait: true });
  const [attempt] = exporter.getFinishedSpans().filter((s) => s.name === 'deliver echo');
  const { traceId, spanId } = attempt.spanContext();
  expect(outcomes?.[0]).toMatchObject({
    ok: true,
    result: { traceparent: `00-${traceId}-${spanId}-01` },
  });
  expect(attempt.kind).toBe(2); // CLIENT
  expect(attempt.attributes['event_gateway.function_type']).toBe('awslambda');
});
