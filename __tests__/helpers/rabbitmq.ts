import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lib/dev';

/** A RabbitMQ node of its own (Debian's `rabbitmq-server`) on a free loopback port. */
export interface RunningRabbit {
  /** `amqp://guest:guest@127.0.0.1:<port>` (guest works from loopback). */
  readonly url: string;
  stop(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The processes whose environment names the node. */
function nodeProcesses(name: string): number[] {
  const out: number[] = [];
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
 * Starts a node in a temporary directory (owned by the `rabbitmq` user, which the script drops to
 * when run as root), as /work/shared/docs/test-servers.md describes; fails with the command that
 * installs it when it is missing.
 */
export async function startRabbit(): Promise<RunningRabbit> {
  const port = await freePort();
  const dist = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rabbit-'));
  writeFileSync(join(dir, 'enabled_plugins'), '[].');
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
  // The `rabbitmq` user the script drops to (as root) must own the directory.
  const id = (flag: string) => Number(String(execFileSync('id', [flag, 'rabbitmq'])));
  const [uid, gid] = [id('-u'), id('-g')];
  chownSync(dir, uid, gid);
  for (const file of ['enabled_plugins', 'rabbitmq.conf']) chownSync(join(dir, file), uid, gid);
  const name = `eg${port}@localhost`;
  let child: ChildProcess;
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
