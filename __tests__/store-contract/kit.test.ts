import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The kit as a package user runs it: `event-gateway/testing` from the built package, under
// node:test (not jest), passing on a correct store and failing on a broken one. The reporter is
// named: node:test's default one prints TAP into a pipe on Node 20 but another format from Node 23.
function runKit(env: Record<string, string> = {}) {
  const args = ['--test', '--test-reporter=tap', join(__dirname, 'kit-fixture.js')];
  const result = spawnSync(process.execPath, args, {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

test('the contract kit runs under node:test from the built package and passes on MemoryStore', () => {
  const { status, output } = runKit();
  expect(output).toMatch(/# pass 1[0-9]/);
  expect(output).toMatch(/# fail 0/);
  expect(status).toBe(0);
});

test('the kit fails a store that ignores transaction compares, naming the broken rules', () => {
  const { status, output } = runKit({ BROKEN: '1' });
  expect(status).not.toBe(0);
  expect(output).toMatch(/not ok \d+ - put with ifModRevision 0 creates only when absent/);
  expect(output).toMatch(
    /not ok \d+ - concurrent referential writes never leave a dangling reference/,
  );
});
