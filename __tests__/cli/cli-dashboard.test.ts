// `event-gateway --dashboard`: the dashboard on the Configuration API's port, behind its keys.
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killChildren, start } from './cli-process';

afterEach(killChildren);

async function keysFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eg-cli-dashboard-'));
  const file = join(dir, 'keys.json');
  const hash = createHash('sha256').update('viewer-key').digest('hex');
  await writeFile(file, JSON.stringify([{ name: 'viewer', hash, spaces: '*', scopes: ['read'] }]));
  return file;
}

test('--dashboard serves the page at /dashboard/, its data with a read key, and the API as before', async () => {
  const gateway = await start(['--dev', '--dashboard', '--api-keys-file', await keysFile()]);
  const page = await fetch(`${gateway.config}/dashboard/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<title>Event Gateway dashboard</title>');
  const bare = await fetch(`${gateway.config}/dashboard`, { redirect: 'manual' });
  expect([bare.status, bare.headers.get('location')]).toEqual([308, '/dashboard/']);
  expect((await fetch(`${gateway.config}/dashboard/api/spaces`)).status).toBe(401);
  const spaces = await fetch(`${gateway.config}/dashboard/api/spaces`, {
    headers: { authorization: 'Bearer viewer-key' },
  });
  expect(spaces.status).toBe(200);
  expect((await fetch(`${gateway.config}/v1/spaces/default/functions`)).status).toBe(401);

  // An open live feed does not hold the command up when it stops.
  const feed = await fetch(`${gateway.config}/dashboard/api/spaces/default/events`, {
    headers: { 'x-api-key': 'viewer-key' },
  });
  expect(feed.status).toBe(200);
  const started = Date.now();
  gateway.child.kill('SIGTERM');
  expect(await gateway.exited).toBe(0);
  expect(Date.now() - started).toBeLessThan(5000);
});

test('without --dashboard there is no dashboard', async () => {
  const gateway = await start(['--dev']);
  expect((await fetch(`${gateway.config}/dashboard/`)).status).toBe(404);
});
