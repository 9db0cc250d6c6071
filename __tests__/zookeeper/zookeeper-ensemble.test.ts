import { freePort, startZooKeeper, type RunningZooKeeper, type ZooKeeperMember } from '../../lib';
import {
  expectInstancesConverged,
  startInstance,
  stopWriting,
  type Instance,
} from '../helpers/gateway-instances';
import { storeDump } from '../helpers/store-fixture';
import { storeAt } from '../helpers/store-servers';
import { fourLetterWord } from '../../lib/store/start-zookeeper';

jest.setTimeout(120_000);

test('a 3-server ensemble: the leader killed while instances write; every cache ends equal to the store', async () => {
  const ensemble: ZooKeeperMember[] = [];
  for (let id = 1; id <= 3; id++) {
    ensemble.push({
      id,
      clientPort: await freePort(),
      peerPort: await freePort(),
      electionPort: await freePort(),
    });
  }
  const servers: RunningZooKeeper[] = await Promise.all(
    ensemble.map((m) => startZooKeeper({ ensemble, serverId: m.id })),
  );
  const modes = () => Promise.all(ensemble.map((m) => fourLetterWord(m.clientPort, 'srvr')));
  const instances: Instance[] = [];
  try {
    while ((await modes()).filter((answer) => /Mode: (leader|follower)/.test(answer)).length < 3)
      await new Promise((r) => setTimeout(r, 100));
    const address = ensemble.map((m) => `127.0.0.1:${m.clientPort}`).join(',');
    const prefix = `/ensemble-${process.pid}`;
    for (let i = 0; i < 3; i++) {
      instances.push(
        await startInstance(
          { STORE_KIND: 'zookeeper', STORE_ADDRESS: address },
          prefix,
          `i${i}`,
          40 + i,
        ),
      );
    }
    for (const instance of instances) instance.child.send({ cmd: 'start' });
    await new Promise((r) => setTimeout(r, 1500));

    // Kill the leader outright: the other two elect a new one, clients move over.
    const leader = (await modes()).findIndex((answer) => answer.includes('Mode: leader'));
    expect(leader).toBeGreaterThanOrEqual(0);
    await servers[leader].stop({ kill: true });
    await new Promise((r) => setTimeout(r, 3000));
    const survivors = (await modes()).filter((answer) => /Mode: (leader|follower)/.test(answer));
    expect(survivors).toHaveLength(2);

    await stopWriting(instances);
    const admin = storeAt(
      'zookeeper',
      ensemble
        .filter((_, i) => i !== leader)
        .map((m) => `127.0.0.1:${m.clientPort}`)
        .join(','),
    );
    const expected = await storeDump(admin, prefix + '/');
    await admin.close();
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    await expectInstancesConverged(instances, expected);
  } finally {
    for (const instance of instances) instance.child.kill();
    await Promise.all(servers.map((s) => s.stop()));
  }
});
