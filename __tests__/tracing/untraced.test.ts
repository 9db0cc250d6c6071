// Without a registered tracer provider, tracing costs nothing: a real host process (the built
// package) delivers events and @opentelemetry/api is never loaded, nor a traceparent sent. The
// same process with the SDK started first is traced: the check can tell the two apart.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = async (mode?: string) => {
  const args = [join(__dirname, 'untraced-child.js'), ...(mode ? [mode] : [])];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 30_000 });
  return JSON.parse(stdout) as { delivered: number; apiLoaded: boolean; traceparent: unknown };
};

test('no tracer provider: @opentelemetry/api is not loaded and functions get no traceparent', async () => {
  expect(await run()).toEqual({ delivered: 2, apiLoaded: false, traceparent: null });
});

test('a tracer provider registered before createGateway: traced, the function gets a traceparent', async () => {
  const traced = await run('register');
  expect(traced).toMatchObject({ delivered: 2, apiLoaded: true });
  expect(traced.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
});
