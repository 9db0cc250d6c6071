// Every js/mjs snippet of the README, run as a new user would: pasted into a file of an app where
// `event-gateway` is installed, run with node, against the real servers it names. The file holds
// the snippet as the README shows it; only its placeholder hosts (`http://etcd-1:2379`,
// `zk-1:2181,...`, `http://127.0.0.1:8500`, `kafka-1:9092`) are swapped for the servers this test
// starts, and S3 is pointed at moto through the AWS SDK's own environment variables. A snippet
// preceded by `<!-- snippet: repl ... -->` is a REPL session (run by repl.test.ts). A snippet that
// says it reads an environment variable (`PORT`, `CI_KEY_SHA256`) gets it.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, startConsul, startEtcd, startZooKeeper } from '../lib';
import { startKafkaMock, startMoto } from '../scripts/servers';
import { AWS_TEST } from './helpers/moto';
import { CONSUL_BINARY } from './helpers/servers';
import { functionServer, killChildren, start } from './cli/cli-process';

jest.setTimeout(120_000);

const root = join(__dirname, '..');
const README = readFileSync(join(root, 'README.md'), 'utf8');
/** How long one snippet may run before it counts as hung. */
const SNIPPET_TIMEOUT = 60_000;

interface Snippet {
  line: number;
  lang: 'js' | 'mjs';
  code: string;
  /** The `<!-- snippet: ... -->` marker before it, if any. */
  marker?: string;
}

function readmeSnippets(): Snippet[] {
  const found: Snippet[] = [];
  for (const match of README.matchAll(/^```([a-z]*)\n([\s\S]*?)^```$/gm)) {
    if (match[1] !== 'js' && match[1] !== 'mjs') continue;
    const before = README.slice(0, match.index).trimEnd();
    const marker = /<!-- snippet: ([^>]*?) -->$/.exec(before)?.[1];
    const line = before.split('\n').length + 1;
    found.push({ line, lang: match[1], code: match[2], marker });
  }
  return found;
}

/** A folder where `event-gateway` (and what the snippet requires) resolve, as after npm install. */
function appFolder(code: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'eg-snippet-'));
  mkdirSync(join(dir, 'node_modules', '@aws-sdk'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules', 'event-gateway'), 'dir');
  const required = [...code.matchAll(/(?:require\(|from )'([^'./][^']*)'/g)].map((m) => m[1]);
  for (const name of new Set(required)) {
    const pkg = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0];
    if (pkg === 'event-gateway' || name.startsWith('node:') || builtinModules.includes(pkg)) {
      continue;
    }
    symlinkSync(join(root, 'node_modules', pkg), join(dir, 'node_modules', pkg), 'dir');
  }
  return dir;
}

/** The servers snippets need, started on first use and stopped after all. */
const running: (() => Promise<unknown>)[] = [];
const servers = new Map<string, Promise<unknown>>();
function server<T extends { stop(): Promise<unknown> }>(name: string, begin: () => Promise<T>) {
  if (!servers.has(name)) {
    servers.set(
      name,
      begin().then((started) => {
        running.push(() => started.stop());
        return started;
      }),
    );
  }
  return servers.get(name) as Promise<T>;
}

/** The file as the user would have it, with the placeholder hosts made real, and its env. */
async function prepare(code: string): Promise<{ code: string; env: Record<string, string> }> {
  const env: Record<string, string> = {
    PORT: String(await freePort()),
    CI_KEY_SHA256: createHash('sha256').update('ci-key').digest('hex'),
  };
  if (/etcd-\d:2379/.test(code)) {
    const etcd = await server('etcd', () => startEtcd());
    code = code.replace(/http:\/\/etcd-\d:2379/g, etcd.endpoints[0]);
  }
  if (/zk-\d:2181/.test(code)) {
    const zk = await server('zookeeper', () => startZooKeeper());
    code = code.replace(/zk-\d:2181(,zk-\d:2181)*/g, zk.servers);
  }
  if (code.includes('http://127.0.0.1:8500')) {
    const consul = await server('consul', () => startConsul({ binary: CONSUL_BINARY }));
    code = code.replaceAll('http://127.0.0.1:8500', consul.url);
  }
  if (/kafka-\d:9092/.test(code)) {
    const kafka = await server('kafka', () => startKafkaMock());
    const brokers = kafka.brokers.map((broker) => `'${broker}'`).join(', ');
    code = code.replace(/'kafka-\d:9092'(, 'kafka-\d:9092')*/g, brokers);
  }
  if (code.includes('new S3Archive(')) {
    const moto = await server('moto', async () => {
      const started = await startMoto();
      const s3 = new S3Client({
        region: 'eu-west-1',
        endpoint: started.endpoint,
        forcePathStyle: true,
        credentials: {
          accessKeyId: AWS_TEST.awsAccessKeyId,
          secretAccessKey: AWS_TEST.awsSecretAccessKey,
        },
      });
      for (const [, bucket] of README.matchAll(/new S3Archive\(\{ bucket: '([^']+)'/g)) {
        await s3.send(
          new CreateBucketCommand({
            Bucket: bucket,
            CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
          }),
        );
      }
      s3.destroy();
      return started;
    });
    Object.assign(env, {
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      AWS_ACCESS_KEY_ID: AWS_TEST.awsAccessKeyId,
      AWS_SECRET_ACCESS_KEY: AWS_TEST.awsSecretAccessKey,
    });
  }
  return { code, env };
}

/** Runs the file with node; resolves with its exit code and output, or kills it past the timeout. */
function runFile(dir: string, file: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [file], {
      cwd: dir,
      env: { ...process.env, ...env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[killed: still running after ${SNIPPET_TIMEOUT} ms]`;
      child.kill('SIGKILL');
    }, SNIPPET_TIMEOUT);
    // 'close': every byte the snippet wrote has been read ('exit' may come first).
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

afterAll(async () => {
  for (const stop of running.splice(0)) await stop();
});
afterEach(killChildren);

const snippets = readmeSnippets();

/** What each snippet prints, found by a string only it holds: a new snippet needs a line here. */
const PRINTS: [string, RegExp][] = [
  ['handler: (e) => `hello ${e.data}`', /ok: true,[\s\S]*result: 'hello Ada'/],
  [
    "functionId: 'big-orders'",
    /matched: false,\s*failed: \{ field: 'data\.amount', operator: 'numeric' \}/,
  ],
  ["type: 'awssqs'", /type: 'awssqs',[\s\S]*region: 'eu-west-1'/],
  ['koaMiddleware(', /^\/events\/hi 202\n\/events\/hi 202\n\/hi 202$/],
  ['expressConfigMiddleware(', /^200\n401$/],
  ['createDashboardHandler(gateway', /^dashboard 200 401 200$/],
  ["connectionId: 'clock'", /^tick clock\.tick$/],
  ['new EtcdStore({\n  hosts', /ready: true,[\s\S]*store: 'EtcdStore',\s*watching: true/],
  ['await startEtcd()', /^true \[ 'http:\/\/127\.0\.0\.1:\d+' \]$/],
  ['new ZooKeeperStore(', /^ZooKeeperStore true\nConsulStore true$/],
  // node:test's default reporter: TAP into a pipe on Node 20, its spec format from Node 23.
  ['describeStoreContract(', /^[#ℹ] pass 16\n[#ℹ] fail 0$/m],
  ['new LocalJournal(', /^\{ entries: 0, damaged: 0, bytes: 0, waiting: 0 \}$/],
  ['new KafkaJournal(', /^\{ entries: 0, damaged: 0, waiting: 0 \}$/],
  ["name: 'tenants'", /^accepted acme\nEVENT_REFUSED 403 unknown tenant$/],
  ['new S3Archive(', /^1 1 0\n[\s\S]*read: 1,\s*emitted: 1,\s*refused: 0/],
  [
    'allowLoopback: false',
    /^VALIDATION_FAILED .*127\.0\.0\.1 is not in the outbound allow list\.$/,
  ],
];
function printed(code: string): RegExp {
  const found = PRINTS.filter(([holds]) => code.includes(holds));
  if (found.length !== 1) throw new Error(`${found.length} expectations for:\n${code}`);
  return found[0][1];
}

test('the README has the snippets this test runs, each marked skip only as a REPL session', () => {
  expect(snippets.length).toBeGreaterThanOrEqual(15);
  for (const snippet of snippets.filter((s) => s.marker !== undefined)) {
    expect(snippet.marker).toMatch(/^repl\b/);
  }
});

test.each(
  snippets
    .filter((snippet) => snippet.marker === undefined)
    .map((snippet) => [`line ${snippet.line}`, snippet] as const),
)('the README snippet at %s runs as pasted and finishes', async (_name, snippet) => {
  const { code, env } = await prepare(snippet.code);
  const dir = appFolder(code);
  try {
    const file = `snippet.${snippet.lang}`;
    writeFileSync(join(dir, file), code);
    const result = await runFile(dir, file, env);
    expect({ ...result, stdout: result.stdout.slice(-2000) }).toMatchObject({ code: 0 });
    expect(result.stdout.trim()).toMatch(printed(snippet.code));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the command logs one line for one failed delivery, as the README says', async () => {
  const fn = await functionServer();
  fn.state.fail = true;
  const gateway = await start(['--dev', '--log-format', 'json']);
  try {
    const post = (url: string, body: unknown, type = 'application/json') =>
      fetch(url, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });
    const config = `${gateway.config}/v1/spaces/default`;
    const fnRecord = { functionId: 'hello', type: 'http', provider: { url: fn.url } };
    await post(`${config}/functions`, { ...fnRecord, retry: { maxAttempts: 2 } });
    await post(`${config}/eventtypes`, { name: 'user.created' });
    await post(`${config}/subscriptions`, {
      type: 'async',
      eventType: 'user.created',
      functionId: 'hello',
      path: '/',
    });
    const event = { specversion: '1.0', id: 'e-1', source: '/cli', type: 'user.created' };
    const accepted = await post(`${gateway.events}/`, event, 'application/cloudevents+json');
    expect(accepted.status).toBe(202);
    const deadline = Date.now() + 20_000;
    while (!gateway.output().includes('delivery failed for good') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // a second line would be here now
    const lines = gateway
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; eventId?: string; attempts?: number });
    const aboutEvent = lines.filter((line) => line.eventId === 'e-1');
    expect(aboutEvent).toEqual([
      expect.objectContaining({ msg: 'delivery failed for good', attempts: 2, lastStatus: 500 }),
    ]);
    expect(fn.received).toHaveLength(2);
  } finally {
    fn.server.close();
  }
});

test("the README's curl script works against the command, as Event Gateway 0.9's did", async () => {
  const script = /```sh\n(# Register a function[\s\S]*?)```/.exec(README)?.[1] as string;
  expect(script).toContain('https://httpbin.org/post');
  const fn = await functionServer();
  const gateway = await start(['--dev']);
  try {
    const local = script
      .replaceAll('localhost:4001', new URL(gateway.config).host)
      .replaceAll('localhost:4000', new URL(gateway.events).host)
      .replaceAll('https://httpbin.org/post', fn.url);
    expect(local).not.toMatch(/localhost|httpbin/);
    execFileSync('bash', ['-e', '-c', local.replaceAll('curl ', 'curl -sf ')], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (fn.received.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(fn.received).toEqual([{ id: '1', type: 'user.created' }]);
  } finally {
    fn.server.close();
  }
});

test('the store versions the README names are the ones the tests run', async () => {
  const named = (store: string) =>
    (new RegExp(`${store} \\(tested with (\\d+\\.\\d+)`).exec(README.replace(/\s+/g, ' ')) ??
      [])[1];
  expect(execFileSync('etcd', ['--version'], { encoding: 'utf8' })).toContain(
    `etcd Version: ${named('etcd cluster')}.`,
  );
  expect(execFileSync(CONSUL_BINARY, ['version'], { encoding: 'utf8' })).toContain(
    `Consul v${named('Consul')}.`,
  );
  const zk = await server('zookeeper', () => startZooKeeper());
  const srvr = await new Promise<string>((resolve, reject) => {
    let answer = '';
    const socket = connect(zk.clientPort, '127.0.0.1', () => socket.end('srvr'));
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
  expect(srvr).toContain(`Zookeeper version: ${named('ZooKeeper')}.`);
});

test("the README's jest example passes under jest, as pasted into a test file", () => {
  const blocks = [...README.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  expect(blocks).toHaveLength(1);
  const dir = appFolder(blocks[0]);
  try {
    writeFileSync(join(dir, 'routing.test.ts'), blocks[0]);
    const tsJest = join(root, 'node_modules', 'ts-jest');
    const config = {
      rootDir: dir,
      testEnvironment: 'node',
      transform: {
        '^.+\\.ts$': [tsJest, { diagnostics: false, tsconfig: { module: 'commonjs' } }],
      },
    };
    const jest = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--config', JSON.stringify(config)],
      { cwd: dir, encoding: 'utf8', timeout: SNIPPET_TIMEOUT },
    );
    expect({ status: jest.status, stderr: jest.stderr }).toMatchObject({ status: 0 });
    expect(jest.stderr).toMatch(/Tests: +1 passed, 1 total/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the command: --api-keys-file as the README shows it, and logs that hold no header or key', async () => {
  const key = 'readme-key-0123456789';
  const dir = mkdtempSync(join(tmpdir(), 'eg-keys-'));
  try {
    const file = join(dir, 'keys.json');
    const hash = createHash('sha256').update(key).digest('hex');
    // The README's form: [{ "hash": "<sha256 hex>", "spaces": "*", "scopes": [...] }]
    const shown = /`--api-keys-file keys\.json` \(`(\[.*?\])`\)/.exec(README.replace(/\s+/g, ' '));
    writeFileSync(file, (shown as RegExpExecArray)[1].replace('<sha256 hex>', hash));
    const gateway = await start(['--dev', '--api-keys-file', file, '--log-level', 'info']);
    const url = `${gateway.config}/v1/spaces/default/functions`;
    expect((await fetch(url)).status).toBe(401);
    const allowed = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    expect(allowed.status).toBe(200);
    const event = { specversion: '1.0', id: 'k-1', source: '/cli', type: 'user.created' };
    const emitted = await fetch(`${gateway.events}/`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(event),
    });
    expect(emitted.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const requests = gateway.output().match(/"msg":"request"/g) ?? [];
    expect(requests).toHaveLength(3);
    expect(gateway.output()).not.toMatch(new RegExp(`${key}|${hash}|authorization|x-api-key`, 'i'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the command answers GET /v1/metrics with Prometheus text (prom-client is installed here)', async () => {
  const gateway = await start(['--dev']);
  const res = await fetch(`${gateway.config}/v1/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(await res.text()).toMatch(/^# HELP \w+/m);
});
