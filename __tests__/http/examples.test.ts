import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';

const root = join(__dirname, '..', '..');

/** Runs an example app on a free port and returns its URL and a stop function. */
async function runExample(
  file: string,
): Promise<{ url: string; output: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [join(root, 'examples', file)], {
    env: { ...process.env, PORT: '0' },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 15_000;
  let match: RegExpMatchArray | null = null;
  while (!(match = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/))) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`${file} did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: match[1],
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

test.each(['express-app.js', 'koa-app.js'])(
  'examples/%s serves the app and the gateway under /events',
  async (file) => {
    const app = await runExample(file);
    try {
      const home = await request(app.url + '/');
      expect(await home.body.text()).toBe('The app itself; the gateway is under /events.');
      const hello = await request(app.url + '/events/hello/Ada');
      expect(hello.statusCode).toBe(200);
      expect(await hello.body.text()).toBe('Hello, Ada!');
      if (file === 'express-app.js') {
        const emitted = await request(app.url + '/events/', {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify({
            specversion: '1.0',
            id: '1',
            source: '/t',
            type: 'user.created',
            data: { name: 'Ada' },
          }),
        });
        expect(emitted.statusCode).toBe(202);
        await emitted.body.dump();
        const deadline = Date.now() + 5000;
        while (!app.output().includes('welcome event for Ada') && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        expect(app.output()).toContain('welcome event for Ada');
      }
    } finally {
      await app.stop();
    }
  },
);
