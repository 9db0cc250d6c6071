// Jest's global setup: the suites start real servers (etcd, ZooKeeper, Consul, moto, a Lambda emulator, a
// Kafka mock, Chromium). When one is missing, install it (as root, through scripts/test-servers.sh) or say how to.
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { CACHE } = require('./servers');

function missing() {
  const out = [];
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore' });
  } catch {
    out.push('etcd');
  }
  try {
    execFileSync('kcat', ['-V'], { stdio: 'ignore' });
  } catch {
    out.push('kcat');
  }
  if (!existsSync('/usr/share/java/zookeeper.jar')) out.push('zookeeper');
  if (!existsSync('/usr/bin/chromium')) out.push('chromium');
  if (!existsSync('/usr/sbin/rabbitmq-server')) out.push('rabbitmq-server');
  if (!existsSync(`${CACHE}/consul/usr/bin/consul`)) out.push('consul');
  if (!existsSync(`${CACHE}/moto/usr/lib/python3/dist-packages/moto`)) out.push('moto');
  if (!existsSync(`${CACHE}/serverless/node_modules/serverless-offline/package.json`)) {
    out.push('serverless-offline');
  }
  return out;
}

module.exports = async function ensureTestServers() {
  const absent = missing();
  if (absent.length === 0) return;
  const script = join(__dirname, 'test-servers.sh');
  if (process.getuid?.() !== 0) {
    throw new Error(`Test servers missing (${absent.join(', ')}): run "sudo bash ${script}".`);
  }
  process.stderr.write(`Installing test servers (${absent.join(', ')})...\n`);
  execFileSync('bash', [script], { stdio: 'inherit' });
};
