import { gatewayRunnerClass } from '../../lib/clients/gateway-kafka';
import { loadKafka } from '../../lib/clients/kafka-client';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs internals
const Runner = require('kafkajs/src/consumer/runner');
const quiet = { debug: () => {}, info: () => {}, namespace: () => quiet };
const runnerOf = (Class: typeof Runner) =>
  new Class({ logger: quiet, consumerGroup: {}, instrumentationEmitter: {} });

test("loading the gateway's kafkajs leaves the shared kafkajs as it was", async () => {
  const stockFetch = Runner.prototype.fetch;
  const { Kafka } = loadKafka();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the host's own kafkajs
  expect(Kafka).not.toBe(require('kafkajs').Kafka);
  expect(Runner.prototype.fetch).toBe(stockFetch);
  await expect(runnerOf(Runner).fetch(0)).resolves.toEqual([]);
});

test("the gateway's runner fails a fetch once stopped, so its fetchers end instead of spinning", async () => {
  const stopped = runnerOf(gatewayRunnerClass(Runner));
  await expect(stopped.fetch(0)).rejects.toThrow('The consumer stopped.');
});
