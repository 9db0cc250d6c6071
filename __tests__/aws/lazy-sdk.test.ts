import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

test('a gateway that never delivers to AWS loads none of the AWS SDK, even with AWS functions registered', () => {
  const script = `
    const { createGateway } = require(${JSON.stringify(join(__dirname, '../../dist'))});
    (async () => {
      const gateway = createGateway();
      await gateway.registerFunction({ functionId: 'f', handler: () => 'ok' });
      await gateway.registerFunction({
        functionId: 'q', type: 'awssqs',
        provider: { queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', region: 'us-east-1' },
      });
      await gateway.createEventType({ name: 't' });
      await gateway.subscribe({ eventType: 't', functionId: 'f' });
      await gateway.emit({ specversion: '1.0', id: '1', source: '/s', type: 't' }, { wait: true });
      await gateway.close();
      const loaded = Object.keys(require.cache).filter((k) => /@aws-sdk|@smithy/.test(k));
      process.stdout.write(JSON.stringify(loaded));
    })();
  `;
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual([]);
});
