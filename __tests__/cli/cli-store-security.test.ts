// The command against secured stores, as real child processes on real servers: etcd with mutual
// TLS and a user and password, Consul with ACLs (default deny), ZooKeeper with digest auth; and
// secrets refused on the command line.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import {
  startConsul,
  startEtcd,
  startZooKeeper,
  ZooKeeperStore,
  type RunningConsul,
  type RunningEtcd,
  type RunningZooKeeper,
} from '../../lib';
import { CONSUL_BINARY } from '../helpers/servers';
import { etcdctlTls, writeTestCertificates } from '../helpers/test-certificates';
import { killChildren, run, start, type Running } from './cli-process';

jest.setTimeout(90_000);

afterEach(killChildren);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eg-cli-secure-'));
});

/** A file only this user can read, holding `text`. */
async function secretFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

const createEventType = async (gateway: Running, name: string) => {
  const res = await request(`${gateway.config}/v1/spaces/default/eventtypes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  await res.body.text();
  return res.statusCode;
};

const eventTypes = async (gateway: Running) => {
  const res = await request(`${gateway.config}/v1/spaces/default/eventtypes`);
  const body = (await res.body.json()) as { eventTypes: { name: string }[] };
  return body.eventTypes.map((e) => e.name);
};

/** Runs a command that must fail to start: its exit code and its one line. */
const refused = async (args: string[], env: Record<string, string> = {}) => {
  const child = run(args, env);
  return { code: await child.exited, stderr: child.stderr() };
};

test('a secret given as a flag is refused, and the message never repeats it', async () => {
  for (const [args, advice] of [
    [['--etcd-password', 'hunter2'], /--etcd-password-file FILE or EVENT_GATEWAY_ETCD_PASSWORD/],
    [['--consul', 'http://127.0.0.1:1', '--consul-token=hunter2'], /CONSUL_HTTP_TOKEN/],
    [['-zookeeper-auth', 'gw:hunter2'], /EVENT_GATEWAY_ZOOKEEPER_AUTH/],
    [['--db-hosts', 'https://root:hunter2@127.0.0.1:1'], /store credential flags/],
    [['--consul', 'http://hunter2@127.0.0.1:1'], /store credential flags/],
  ] as const) {
    const { code, stderr } = await refused([...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^event-gateway: .*every user of this machine \(ps\)/);
    expect(stderr).toMatch(advice);
    expect(stderr).not.toContain('hunter2');
    expect(stderr.trim().split('\n')).toHaveLength(1);
  }
});

describe('etcd with mutual TLS and a user and password', () => {
  let etcd: RunningEtcd;
  let ca: string, clientCert: string, clientKey: string;
  const etcdctl = (...args: string[]) =>
    etcdctlTls(etcd.endpoints[0], { ca, clientCert, clientKey }, ...args);

  beforeAll(async () => {
    // A throwaway CA, etcd's certificate for 127.0.0.1 and a client certificate.
    const certs = await writeTestCertificates(dir);
    [ca, clientCert, clientKey] = [certs.ca, certs.clientCert, certs.clientKey];
    etcd = await startEtcd({
      tls: {
        certFile: join(dir, 'server.pem'),
        keyFile: join(dir, 'server-key.pem'),
        clientCaFile: ca,
      },
    });
    // A user for the gateway with read and write on every key, then authentication on.
    for (const args of [
      ['user', 'add', 'root:root-password'],
      ['user', 'grant-role', 'root', 'root'],
      ['user', 'add', 'gateway:gateway-password'],
      ['role', 'add', 'gateway'],
      ['role', 'grant-permission', 'gateway', '--prefix=true', 'readwrite', ''],
      ['user', 'grant-role', 'gateway', 'gateway'],
      ['auth', 'enable'],
    ]) {
      etcdctl(...args);
    }
  });
  afterAll(() => etcd?.stop());

  test('the command connects with --etcd-*-file flags and the password from the environment or a file', async () => {
    const tls = [
      '--etcd-ca-file',
      ca,
      '--etcd-cert-file',
      clientCert,
      '--etcd-key-file',
      clientKey,
    ];
    const hosts = ['--db-hosts', `127.0.0.1:${etcd.clientPort}`];
    const user = ['--etcd-username', 'gateway'];
    const first = await start([...hosts, ...tls, ...user], {
      EVENT_GATEWAY_ETCD_PASSWORD: 'gateway-password',
    });
    expect(first.output()).toContain('"store":"EtcdStore"');
    expect(await createEventType(first, 'secure.created')).toBe(201);
    // It is in etcd, written as the gateway user.
    const keys = etcdctl('--user', 'root:root-password', 'get', '--prefix', '', '--keys-only');
    expect(keys).toMatch(/secure\.created/);
    const passwordFile = await secretFile('etcd-password', 'gateway-password\n');
    const second = await start([...hosts, ...tls, ...user, '--etcd-password-file', passwordFile]);
    expect(await eventTypes(second)).toEqual(['secure.created']);

    // Without a user, with a wrong password, or without the CA: one line naming why, exit 2.
    const wrongFile = await secretFile('wrong-password', 'not-it');
    const [anonymous, wrong, untrusted] = await Promise.all([
      refused([...hosts, ...tls]),
      refused([...hosts, ...tls, ...user, '--etcd-password-file', wrongFile]),
      refused(['--db-hosts', `https://127.0.0.1:${etcd.clientPort}`, ...user], {
        EVENT_GATEWAY_ETCD_PASSWORD: 'gateway-password',
      }),
    ]);
    const where = `^event-gateway: cannot reach etcd at .*127\\.0\\.0\\.1:${etcd.clientPort} \\(10 s\\): `;
    expect(anonymous).toEqual({
      code: 2,
      stderr: expect.stringMatching(new RegExp(`${where}.*permission denied`)),
    });
    expect(wrong).toEqual({
      code: 2,
      stderr: expect.stringMatching(new RegExp(`${where}.*authentication failed`)),
    });
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toMatch(new RegExp(where));
    for (const { stderr } of [anonymous, wrong, untrusted]) {
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).not.toContain('password-');
    }
  });

  test('credential flags that do not fit are refused at once', async () => {
    for (const [args, message] of [
      [['--etcd-username', 'gateway'], /--etcd-username needs a password/],
      [['--etcd-ca-file', ca, '--etcd-cert-file', clientCert], /go together/],
      [['--etcd-ca-file', ca, '--db-hosts', 'http://127.0.0.1:1'], /write https:\/\/ hosts/],
      [['--dev', '--etcd-ca-file', ca], /--etcd-ca-file is for etcd; the store here is in memory/],
      [['--consul-token-file', '/nonexistent'], /is for Consul; the store here is etcd/],
      [['--consul', 'http://127.0.0.1:1', '--consul-token-file', '/nonexistent'], /cannot read/],
      [['--zookeeper', '127.0.0.1:1', '--zookeeper-auth-file', ca], /must be user:password/],
    ] as const) {
      const { code, stderr } = await refused([...args]);
      expect({ code, stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
    }
  });
});

describe('Consul with ACLs on (default deny)', () => {
  let consul: RunningConsul;
  const master = 'b7a4c0de-0000-4000-8000-000000000001';
  let token: string;
  beforeAll(async () => {
    consul = await startConsul({
      binary: CONSUL_BINARY,
      args: [
        '-hcl',
        `acl { enabled = true, default_policy = "deny", tokens { master = "${master}" } }`,
      ],
    });
    // Just after a leader is elected, Consul's ACL system answers 500 ("in legacy mode") for a
    // moment: wait until it lists policies.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await request(`${consul.url}/v1/acl/policies`, {
        headers: { 'x-consul-token': master },
      });
      await res.body.text();
      if (res.statusCode === 200) break;
      if (Date.now() > deadline) throw new Error(`Consul's ACLs are not ready: ${res.statusCode}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The token the store's documentation asks for: write on the event-gateway/ prefix, no more.
    const call = async (path: string, body: unknown) => {
      const res = await request(`${consul.url}/v1/acl/${path}`, {
        method: 'PUT',
        headers: { 'x-consul-token': master },
        body: JSON.stringify(body),
      });
      const answer = (await res.body.json()) as { SecretID?: string };
      expect(res.statusCode).toBe(200);
      return answer;
    };
    await call('policy', {
      Name: 'event-gateway',
      Rules: 'key_prefix "event-gateway/" { policy = "write" }',
    });
    ({ SecretID: token } = (await call('token', { Policies: [{ Name: 'event-gateway' }] })) as {
      SecretID: string;
    });
  });
  afterAll(() => consul?.stop());

  test('the command connects with CONSUL_HTTP_TOKEN or --consul-token-file; without a token it cannot', async () => {
    const flags = ['--consul', consul.url];
    const first = await start(flags, { CONSUL_HTTP_TOKEN: token });
    expect(await createEventType(first, 'acl.created')).toBe(201);
    const tokenFile = await secretFile('consul-token', `${token}\n`);
    const second = await start([...flags, '--consul-token-file', tokenFile]);
    expect(await eventTypes(second)).toEqual(['acl.created']);
    const anonymous = await refused(flags, { CONSUL_HTTP_TOKEN: '' });
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toMatch(
      new RegExp(
        `^event-gateway: cannot reach Consul at ${consul.url} \\(10 s\\): .*Permission denied`,
      ),
    );
  });
});

describe('ZooKeeper with digest auth', () => {
  let zk: RunningZooKeeper;
  beforeAll(async () => {
    zk = await startZooKeeper();
  });
  afterAll(() => zk?.stop());

  test('the command authenticates, and other clients can neither read nor write its znodes', async () => {
    const flags = ['--zookeeper', zk.servers];
    const first = await start(flags, { EVENT_GATEWAY_ZOOKEEPER_AUTH: 'gateway:zk-password' });
    expect(await createEventType(first, 'digest.created')).toBe(201);
    const authFile = await secretFile('zk-auth', 'gateway:zk-password\n');
    const second = await start([...flags, '--zookeeper-auth-file', authFile]);
    expect(await eventTypes(second)).toEqual(['digest.created']);
    for (const auth of [undefined, 'gateway:wrong', 'intruder:zk-password']) {
      const other = new ZooKeeperStore({ servers: zk.servers, auth, requestTimeout: 3000 });
      await expect(other.list('')).rejects.toThrow(/NO_AUTH/);
      await expect(other.put('/functions/x', '{}')).rejects.toThrow(/NO_AUTH/);
      await other.close();
    }
    const anonymous = await refused(flags);
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toMatch(/cannot reach ZooKeeper at .* \(10 s\): .*NO_AUTH/);
  });
});
