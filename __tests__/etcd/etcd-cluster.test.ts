import { execFileSync } from 'node:child_process';
import { EtcdStore, freePort, startEtcd, type RunningEtcd } from '../../lib';
import {
  expectInstancesConverged,
  startInstance,
  stopWriting,
  type Instance,
} from '../helpers/gateway-instances';
import { storeDump } from '../helpers/store-fixture';

jest.setTimeout(120_000);

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`);
    return res.ok && (await res.text()).includes('true');
  } catch {
    return false;
  }
}

test('a 3-member cluster: a member killed and the leader moved while instances write; every cache ends equal to the store', async () => {
  const names = ['m1', 'm2', 'm3'];
  const ports = await Promise.all(
    names.map(async () => ({ client: await freePort(), peer: await freePort() })),
  );
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i].peer}`).join(',');
  const members: RunningEtcd[] = await Promise.all(
    names.map((name, i) =>
      startEtcd({
        name,
        clientPort: ports[i].client,
        peerPort: ports[i].peer,
        initialCluster,
        initialClusterToken: `cluster-${process.pid}`,
      }),
    ),
  );
  const instances: Instance[] = [];
  try {
    for (const m of members)
      while (!(await healthy(m.endpoints[0]))) await new Promise((r) => setTimeout(r, 100));
    const hosts = members.map((m) => m.endpoints[0]);
    const prefix = `/cluster-${process.pid}`;
    for (let i = 0; i < 3; i++)
      instances.push(
        await startInstance(
          { STORE_KIND: 'etcd', STORE_ADDRESS: hosts.join(',') },
          prefix,
          `i${i}`,
          100 + i,
        ),
      );
    for (const instance of instances) instance.child.send({ cmd: 'start' });
    await new Promise((r) => setTimeout(r, 1500));

    // Kill a member outright.
    const admin = new EtcdStore({ hosts: [hosts[0], hosts[1]] });
    await members[2].stop({ kill: true });
    await new Promise((r) => setTimeout(r, 1500));

    // Move the leadership to the other surviving member. The kill may have started an election:
    // ask each survivor who leads until one answers that it does, then move away from it.
    await moveLeader(hosts.slice(0, 2));
    await new Promise((r) => setTimeout(r, 1500));

    await stopWriting(instances);
    const expected = await storeDump(admin, prefix + '/');
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    await expectInstancesConverged(instances, expected);
    await admin.close();
  } finally {
    for (const instance of instances) instance.child.kill();
    await Promise.all(members.map((m) => m.stop()));
  }
});

/** Moves the leadership from the current leader among `endpoints` to another of them. */
async function moveLeader(endpoints: string[]): Promise<void> {
  const etcdctl = (args: string[]) =>
    execFileSync('etcdctl', args, {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: 'pipe',
      encoding: 'utf8',
    });
  const statuses = () => {
    const json = etcdctl(['--endpoints', endpoints.join(','), 'endpoint', 'status', '-w', 'json']);
    // 64-bit member IDs: quote them before JSON.parse rounds them.
    return JSON.parse(json.replace(/"(member_id|leader|cluster_id)":(\d+)/g, '"$1":"$2"')) as {
      Endpoint: string;
      Status: { header: { member_id: string }; leader: string };
    }[];
  };
  let lastError: unknown = new Error('no leader among the survivors');
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      const all = statuses();
      const leader = all.find(
        (s) => s.Status.leader !== '0' && s.Status.leader === s.Status.header.member_id,
      );
      const target = all.find((s) => s !== leader);
      if (leader && target) {
        const targetId = target.Status.header.member_id;
        etcdctl(['--endpoints', leader.Endpoint, 'move-leader', BigInt(targetId).toString(16)]);
        // Done only when every survivor agrees on the new leader.
        if (statuses().every((s) => s.Status.leader === targetId)) return;
        lastError = new Error('move-leader answered, but the leadership did not move');
      }
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`could not move the leader: ${(lastError as Error).message}`);
}
