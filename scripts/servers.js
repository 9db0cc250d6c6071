// Starts the real servers the tests and benchmarks use (moto, the Kafka mock cluster, RabbitMQ;
// installed by scripts/test-servers.sh), on free loopback ports. One implementation for both.
const { execFileSync, spawn } = require('node:child_process');
const {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const { connect, createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

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
        pid: child.pid,
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

function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The processes whose environment names the RabbitMQ node. */
function nodeProcesses(name) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (environ.split('\0').includes(`RABBITMQ_NODENAME=${name}`)) out.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/**
 * Starts a RabbitMQ node of its own (Debian's `rabbitmq-server`) in a temporary directory (owned
 * by the `rabbitmq` user, which the script drops to when run as root), as
 * /work/shared/docs/test-servers.md describes; fails with the command that installs it when it
 * is missing.
 */
async function startRabbit() {
  const port = await freePort();
  const dist = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rabbit-'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].');
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
  // The `rabbitmq` user the script drops to (as root) must own the directory.
  const id = (flag) => Number(String(execFileSync('id', [flag, 'rabbitmq'])));
  const [uid, gid] = [id('-u'), id('-g')];
  chownSync(dir, uid, gid);
  for (const file of ['enabled_plugins', 'rabbitmq.conf']) chownSync(join(dir, file), uid, gid);
  const name = `eg${port}@localhost`;
  let child;
  try {
    child = spawn('rabbitmq-server', [], {
      env: {
        ...process.env,
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(dist),
        RABBITMQ_NODENAME: name,
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(dir, 'log'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
      },
      stdio: 'ignore',
      detached: true,
    });
  } catch (error) {
    throw new Error(`rabbitmq-server is missing: apt-get install rabbitmq-server (${error})`);
  }
  const deadline = Date.now() + 60_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`rabbitmq-server exited (${child.exitCode})`);
    if (Date.now() > deadline) throw new Error('rabbitmq-server did not start within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    stop: async () => {
      // The script drops to the rabbitmq user in a session of its own: its Erlang VM is found
      // by the node name in its environment, not by process group.
      for (const pid of nodeProcesses(name)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startMoto, startKafkaMock, startRabbit, CACHE };
