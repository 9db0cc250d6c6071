import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdStore, startEtcd, type RunningEtcd } from '../../lib';

// etcd's auth tokens go stale: a simple token expires after `--auth-token-ttl` seconds unused
// (300 by default), a JWT after its `ttl`, and a JWT carries the auth revision it was signed at:
// any change of users or roles makes it "old" (etcdserver: revision of auth store is old). The
// node:http2 reads ask for a new one, as etcd's Go client does, instead of failing until the
// connection happens to drop.

const keys = mkdtempSync(join(tmpdir(), 'eg-jwt-'));
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
writeFileSync(join(keys, 'jwt.key'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(join(keys, 'jwt.pub'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
const TOKENS = {
  simple: ['--auth-token-ttl', '3'],
  jwt: [
    '--auth-token',
    `jwt,pub-key=${join(keys, 'jwt.pub')},priv-key=${join(keys, 'jwt.key')},sign-method=RS256,ttl=3s`,
  ],
};
afterAll(() => rmSync(keys, { recursive: true, force: true }));

describe.each(Object.keys(TOKENS) as (keyof typeof TOKENS)[])('%s tokens', (kind) => {
  let etcd: RunningEtcd;
  const etcdctl = (...args: string[]) =>
    execFileSync('etcdctl', ['--endpoints', etcd.endpoints[0], '--user', 'root:root-pw', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });

  beforeAll(async () => {
    etcd = await startEtcd({ args: TOKENS[kind] });
    const plain = (...args: string[]) =>
      execFileSync('etcdctl', ['--endpoints', etcd.endpoints[0], ...args], {
        env: { ...process.env, ETCDCTL_API: '3' },
      });
    for (const args of [
      ['user', 'add', 'root:root-pw'],
      ['user', 'grant-role', 'root', 'root'],
      ['user', 'add', 'gw:gw-pw'],
      ['role', 'add', 'gw'],
      ['role', 'grant-permission', 'gw', '--prefix=true', 'readwrite', '/t/'],
      ['user', 'grant-role', 'gw', 'gw'],
      ['auth', 'enable'],
    ]) {
      plain(...args);
    }
  }, 60_000);
  afterAll(() => etcd?.stop());

  function newStore() {
    return new EtcdStore({ hosts: etcd.endpoints, auth: { username: 'gw', password: 'gw-pw' } });
  }

  test('a token made old by a change of roles is replaced: reads go on', async () => {
    const store = newStore();
    try {
      await store.get('/t/a');
      etcdctl('role', 'add', 'other');
      await expect(store.get('/t/a')).resolves.toBeUndefined();
      expect((await store.list('/t/')).items).toEqual([]);
    } finally {
      await store.close();
    }
  });

  test('an expired token (--auth-token-ttl, a JWT ttl) is replaced: reads go on', async () => {
    const store = newStore();
    try {
      await store.get('/t/a');
      await new Promise((r) => setTimeout(r, 4000));
      await expect(store.get('/t/a')).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
