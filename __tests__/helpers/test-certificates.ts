import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes into `dir` a throwaway CA (`ca.pem`), a server certificate for 127.0.0.1 (`server.pem`,
 * `server-key.pem`) and a client certificate (`client.pem`, `client-key.pem`, CN `no-such-user`),
 * valid for a day, with openssl. Returns the files' paths.
 */
export async function writeTestCertificates(dir: string) {
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    openssl('version');
  } catch {
    throw new Error('These tests need openssl (Debian and Ubuntu: apt-get install openssl).');
  }
  const key = ['-newkey', 'rsa:2048', '-nodes'];
  const sign = async (name: string, subject: string, extensions: string) => {
    openssl('req', ...key, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', subject);
    await writeFile(join(dir, `${name}.ext`), extensions);
    const ca = ['-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1'];
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      ...ca,
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    );
  };
  openssl(
    'req',
    '-x509',
    ...key,
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=event-gateway test CA',
  );
  await sign(
    'server',
    '/CN=127.0.0.1',
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  await sign('client', '/CN=no-such-user', 'extendedKeyUsage=clientAuth\n');
  const path = (f: string) => join(dir, f);
  return {
    ca: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server-key.pem'),
    clientCert: path('client.pem'),
    clientKey: path('client-key.pem'),
  };
}

/** Runs `etcdctl` (API v3) against a mutual-TLS etcd with the client certificate; its stdout. */
export function etcdctlTls(
  endpoint: string,
  certs: { ca: string; clientCert: string; clientKey: string },
  ...args: string[]
): string {
  return execFileSync(
    'etcdctl',
    [
      '--endpoints',
      endpoint,
      '--cacert',
      certs.ca,
      '--cert',
      certs.clientCert,
      '--key',
      certs.clientKey,
      ...args,
    ],
    { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' },
  );
}
