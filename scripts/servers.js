// Starts the real AWS-protocol servers the tests and benchmarks use (installed by
// scripts/test-servers.sh), on free loopback ports. One implementation for both.
const { spawn } = require('node:child_process');
const { existsSync } = require('node:fs');
const { createServer } = require('node:net');

const CACHE = process.env.EVENT_GATEWAY_TEST_CACHE ?? '/var/cache/event-gateway-test';
const MOTO = `${CACHE}/moto/usr/lib/python3/dist-packages`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts moto (SQS, Kinesis, Firehose, S3); fails naming the install command when missing. */
async function startMoto() {
  if (!existsSync(`${MOTO}/moto`)) {
    throw new Error(
      `moto is not installed: run "sudo bash scripts/test-servers.sh" (looked in ${MOTO}).`,
    );
  }
  const port = await freePort();
  const child = spawn(
    '/usr/bin/python3',
    ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    { env: { ...process.env, PYTHONPATH: MOTO }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`moto did not answer on ${endpoint} within 20 s: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    endpoint,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Starts librdkafka's mock Kafka cluster (3 brokers, in memory) through kcat; `stop` kills it,
 * which is also how a test makes every broker fail at once.
 */
function startKafkaMock() {
  return new Promise((resolve, reject) => {
    let child;
    try {
      // -C mode: in -P mode kcat ignores SIGTERM.
      child = spawn(
        'kcat',
        [
          '-C',
          '-b',
          '127.0.0.1:1',
          '-X',
          'test.mock.num.brokers=3',
          '-t',
          '__mock',
          '-o',
          'end',
          '-u',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (error) {
      return reject(error);
    }
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the Kafka mock cluster did not start within 10 s: ${stderr}`));
    }, 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `kcat could not start (run "sudo bash scripts/test-servers.sh"): ${error.message}`,
        ),
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kcat exited (${code}): ${stderr}`));
    });
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
      const found = /replaced with ([0-9.:,]+)/.exec(stderr);
      if (!found) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        brokers: found[1].split(','),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGKILL');
          }),
      });
    });
  });
}

module.exports = { startMoto, startKafkaMock, CACHE };
