// Every place that loads an optional peer dependency, on a host without it: one typed error
// (PeerMissingError, PEER_MISSING) naming what needs the package and the npm install command, with
// the MODULE_NOT_FOUND as its cause. And a peer that is installed but broken is not "missing": its
// own failure surfaces.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsSource } from '../../lib/metrics/prometheus';
import type { SourceContext } from '../../lib/sources/source';

/** What Node's require throws for a package that is not installed. */
function notFound(name: string): Error {
  return Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- x.js`), {
    code: 'MODULE_NOT_FOUND',
  });
}

/** A source's context, for the connection of that type (the peer loads before any I/O). */
function sourceContext(type: string, source: Record<string, unknown>): SourceContext {
  return {
    record: { connectionId: 'c1', space: 's', type, writer: 'host', source },
    deliver: () => {},
    leases: {},
    fail: () => {},
    owned: () => {},
  } as unknown as SourceContext;
}

const prometheusGateway: MetricsSource = {
  metrics: () => ({}) as ReturnType<MetricsSource['metrics']>,
  functionMetrics: () => [],
  observeAttempts: () => () => {},
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eg-peers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/* eslint-disable @typescript-eslint/no-require-imports -- each loaded after the peer's mock */
interface Case {
  /** The call site. */
  site: string;
  peer: string;
  /** The feature the message names. */
  feature: string;
  install: string;
  /** Loads the call site's module (after the mock) and makes it need the peer. */
  use: () => unknown;
  /** The delivery path: an InvocationError (final) whose cause is the PeerMissingError. */
  delivery?: true;
}

const CASES: Case[] = [
  {
    site: 'lib/sources/source-peers.ts (awsClientConfig)',
    peer: '@smithy/node-http-handler',
    feature: 'awssqs connections',
    install: '@smithy/node-http-handler@4',
    use: () =>
      require('../../lib/sources/source-peers').awsClientConfig(
        sourceContext('awssqs', { region: 'us-east-1' }).record,
      ),
  },
  {
    site: 'lib/sources/amqp-source.ts',
    peer: 'amqplib',
    feature: 'amqp connections',
    install: 'amqplib@2',
    use: () =>
      require('../../lib/sources/amqp-source').amqpSource(
        sourceContext('amqp', { url: 'amqp://127.0.0.1', queue: 'q' }),
      ),
  },
  {
    site: 'lib/sources/schedule-gap.ts',
    peer: 'cron-parser',
    feature: 'schedule connections',
    install: 'cron-parser@5',
    use: () => require('../../lib/sources/schedule-gap').cronParser(),
  },
  {
    site: 'lib/sources/sqs-source.ts',
    peer: '@aws-sdk/client-sqs',
    feature: 'awssqs connections',
    install: '@aws-sdk/client-sqs@3',
    use: () =>
      require('../../lib/sources/sqs-source').sqsSource(
        sourceContext('awssqs', { region: 'us-east-1', queueUrl: 'http://127.0.0.1/q' }),
      ),
  },
  {
    site: 'lib/sources/kinesis-source.ts',
    peer: '@aws-sdk/client-kinesis',
    feature: 'awskinesis connections',
    install: '@aws-sdk/client-kinesis@3',
    use: () =>
      require('../../lib/sources/kinesis-source').kinesisSource(
        sourceContext('awskinesis', { region: 'us-east-1', streamName: 's' }),
      ),
  },
  {
    site: 'lib/sources/kafka-source.ts',
    peer: 'kafkajs',
    feature: 'kafka connections',
    install: 'kafkajs@2',
    use: () =>
      require('../../lib/sources/kafka-source').kafkaSource(
        sourceContext('kafka', { brokers: '127.0.0.1:9092', topic: 't' }),
      ),
  },
  {
    site: 'lib/clients/kafka-client.ts (the Kafka journal)',
    peer: 'kafkajs',
    feature: 'The Kafka journal',
    install: 'kafkajs@2',
    use: () => {
      const { KafkaJournal } = require('../../lib/journal/kafka-journal');
      return new KafkaJournal({ client: { brokers: ['127.0.0.1:9092'] } }).open({
        take: () => {},
        report: () => {},
      });
    },
  },
  {
    site: 'lib/sinks/kafka-archive.ts',
    peer: 'kafkajs',
    feature: 'KafkaArchive',
    install: 'kafkajs@2',
    use: () => {
      const { KafkaArchive } = require('../../lib/sinks/kafka-archive');
      return new KafkaArchive({ client: { brokers: ['127.0.0.1:9092'] } }).read({
        from: new Date(0),
        to: new Date(),
      });
    },
  },
  {
    site: 'lib/sinks/s3-archive.ts',
    peer: '@aws-sdk/client-s3',
    feature: 'S3Archive',
    install: '@aws-sdk/client-s3@3',
    // Its one loading point, reached by every write and read after their own checks.
    use: () => {
      const { S3Archive } = require('../../lib/sinks/s3-archive');
      return (new S3Archive({ bucket: 'bucket' }) as unknown as { s3Client(): unknown }).s3Client();
    },
  },
  {
    site: 'lib/delivery/providers/aws/aws-clients.ts',
    peer: '@aws-sdk/client-lambda',
    feature: 'Function "f1" of type "awslambda"',
    install: '@aws-sdk/client-lambda',
    delivery: true,
    use: () => {
      const { AwsClients } = require('../../lib/delivery/providers/aws/aws-clients');
      const { OutboundPolicy } = require('../../lib/model/outbound-policy');
      const fn = { functionId: 'f1', space: 's', type: 'awslambda', provider: {} };
      return new AwsClients({ outbound: new OutboundPolicy() }).module('lambda', fn);
    },
  },
  {
    site: 'lib/store/zookeeper-backend.ts',
    peer: 'node-zookeeper-client',
    feature: 'ZooKeeperStore',
    install: 'node-zookeeper-client',
    use: () => {
      const { ZooKeeperBackend } = require('../../lib/store/zookeeper-backend');
      return new ZooKeeperBackend({
        servers: '127.0.0.1:1',
        path: '/eg',
        sessionTimeout: 1000,
        acl: 'open',
        maxRequestBytes: 1 << 20,
      });
    },
  },
  {
    site: 'lib/store/consul-backend.ts',
    peer: 'consul',
    feature: 'ConsulStore',
    install: 'consul',
    use: () => {
      const { ConsulBackend } = require('../../lib/store/consul-backend');
      return new ConsulBackend({
        url: 'http://127.0.0.1:1',
        path: 'eg',
        requestTimeout: 1000,
        maxRequestBytes: 1 << 20,
      });
    },
  },
  {
    site: 'lib/journal/local-journal-reader.ts',
    peer: 'classic-level',
    feature: 'LocalJournal',
    install: 'classic-level@3',
    use: () => require('../../lib/journal/local-journal-reader').loadJournal(join(dir, 'j')),
  },
  {
    site: 'lib/metrics/prometheus.ts',
    peer: 'prom-client',
    feature: 'registerPrometheusMetrics',
    install: 'prom-client',
    use: () => require('../../lib/metrics/prometheus').registerPrometheusMetrics(prometheusGateway),
  },
  {
    site: 'lib/tracing/otel-api.ts',
    peer: '@opentelemetry/api',
    feature: 'createGateway: option "tracing"',
    install: '@opentelemetry/api@1',
    use: () => require('../../lib/tracing/otel-api').loadOtelApi('"tracing"'),
  },
];

/** What the call site threw (or rejected with), with its peer's require made to throw `error`. */
async function failure(site: Case, error: () => Error): Promise<{ caught: unknown; lib: Lib }> {
  let caught: unknown;
  let lib!: Lib;
  await jest.isolateModulesAsync(async () => {
    jest.doMock(site.peer, () => {
      throw error();
    });
    lib = require('../../lib/errors');
    try {
      await site.use();
    } catch (thrown) {
      caught = thrown;
    }
  });
  jest.dontMock(site.peer);
  return { caught, lib };
}
type Lib = typeof import('../../lib/errors');

test.each(CASES.map((c) => [c.site, c] as const))(
  '%s: a missing peer is a PeerMissingError with the install command',
  async (_site, site) => {
    const { caught, lib } = await failure(site, () => notFound(site.peer));
    let missing = caught;
    if (site.delivery) {
      // A delivery's failure is an InvocationError, final: retrying cannot install a package.
      expect(caught).toBeInstanceOf(lib.InvocationError);
      expect(caught).toMatchObject({ retryable: false });
      expect((caught as Error).message).toBe(((caught as Error).cause as Error).message);
      missing = (caught as Error).cause;
    }
    expect(missing).toBeInstanceOf(lib.PeerMissingError);
    expect(missing).toMatchObject({
      code: 'PEER_MISSING',
      status: 500,
      peer: site.peer,
      message: `${site.feature} needs the package "${site.peer}", which is not installed: npm install ${site.install}`,
      cause: expect.objectContaining({ code: 'MODULE_NOT_FOUND' }),
    });
  },
);

describe('an installed peer that fails while loading', () => {
  const consul = CASES.find((c) => c.peer === 'consul')!;

  test('surfaces its own error, not "install it"', async () => {
    const own = new Error('consul: native binding was built for another platform');
    const { caught, lib } = await failure(consul, () => own);
    expect(caught).not.toBeInstanceOf(lib.PeerMissingError);
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).message).toBe(
      'The package "consul" failed to load: consul: native binding was built for another platform',
    );
    expect((caught as Error).cause).toBe(own);
  });

  test('a dependency of its own missing is that failure, not the peer missing', async () => {
    const own = notFound('papi');
    const { caught, lib } = await failure(consul, () => own);
    expect(caught).not.toBeInstanceOf(lib.PeerMissingError);
    expect((caught as Error).message).toMatch(/^The package "consul" failed to load: .*'papi'/);
    expect((caught as Error).cause).toBe(own);
  });
});
/* eslint-enable @typescript-eslint/no-require-imports */
