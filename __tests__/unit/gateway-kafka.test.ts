import { gatewayRequestQueueClass, gatewayRunnerClass } from '../../lib/clients/gateway-kafka';
import { loadKafka } from '../../lib/clients/kafka-client';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs internals
const Runner = require('kafkajs/src/consumer/runner');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs internals
const RequestQueue = require('kafkajs/src/network/requestQueue');
const quiet = { debug: () => {}, info: () => {}, namespace: () => quiet };
const runnerOf = (Class: typeof Runner) =>
  new Class({ logger: quiet, consumerGroup: {}, instrumentationEmitter: {} });

test("loading the gateway's kafkajs leaves the shared kafkajs as it was", async () => {
  const stockFetch = Runner.prototype.fetch;
  const stockSchedule = RequestQueue.prototype.scheduleCheckPendingRequests;
  const { Kafka } = loadKafka();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the host's own kafkajs
  expect(Kafka).not.toBe(require('kafkajs').Kafka);
  expect(Runner.prototype.fetch).toBe(stockFetch);
  expect(RequestQueue.prototype.scheduleCheckPendingRequests).toBe(stockSchedule);
  await expect(runnerOf(Runner).fetch(0)).resolves.toEqual([]);
});

test("the gateway's runner fails a fetch once stopped, so its fetchers end instead of spinning", async () => {
  const stopped = runnerOf(gatewayRunnerClass(Runner));
  await expect(stopped.fetch(0)).rejects.toThrow('The consumer stopped.');
});

describe("the gateway's request queue", () => {
  const queueOf = (Class: typeof RequestQueue) =>
    new Class({ logger: quiet, clientId: 'c', broker: 'b', maxInFlightRequests: null });
  /** The delays of the timers `run` sets (the queue's only timers). */
  const timersSetBy = (queue: typeof RequestQueue, run: () => void): number[] => {
    const spy = jest.spyOn(global, 'setTimeout');
    try {
      run();
      return spy.mock.calls.map(([, delay]) => Number(delay));
    } finally {
      spy.mockRestore();
      queue.destroy();
    }
  };

  test("kafkajs's own queue, idle, sets a negative timer after every check (the bug)", () => {
    const stock = queueOf(RequestQueue);
    // Node runs it after 1 ms (Node 24 warns), and its check sets the next one.
    const delays = timersSetBy(stock, () => stock.checkPendingRequests());
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeLessThan(0);
  });

  test('sets no timer when nothing is pending and the broker does not throttle', () => {
    const queue = queueOf(gatewayRequestQueueClass(RequestQueue));
    expect(timersSetBy(queue, () => queue.checkPendingRequests())).toEqual([]);
  });

  test('still checks later what is pending, and when the broker throttles', () => {
    const pending = queueOf(gatewayRequestQueueClass(RequestQueue));
    pending.pending.push({});
    expect(timersSetBy(pending, () => pending.scheduleCheckPendingRequests())).toEqual([10]);

    const throttled = queueOf(gatewayRequestQueueClass(RequestQueue));
    throttled.throttledUntil = Date.now() + 5_000;
    const [delay] = timersSetBy(throttled, () => throttled.scheduleCheckPendingRequests());
    expect(delay).toBeGreaterThan(4_000);
  });
});
