import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');

/** A folder where `event-gateway` resolves to this package's build, as after `npm install`. */
function appFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'eg-app-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'event-gateway'), 'dir');
  return dir;
}

test('the README quick start works when pasted, in ten lines or fewer', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const code = (/```js\n([\s\S]*?)```/.exec(section) as RegExpExecArray)[1];
  expect(code.trim().split('\n').length).toBeLessThanOrEqual(10);
  const dir = appFolder();
  try {
    writeFileSync(join(dir, 'quick-start.js'), code);
    const out = execFileSync(process.execPath, ['quick-start.js'], { cwd: dir, encoding: 'utf8' });
    expect(out).toContain("functionId: 'hello'");
    expect(out).toContain("result: 'hello Ada'");
    expect(out).toContain('ok: true');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ESM importers get named exports', () => {
  const dir = appFolder();
  try {
    writeFileSync(
      join(dir, 'app.mjs'),
      "import { createGateway, MemoryStore, GatewayError } from 'event-gateway';\n" +
        'const g = createGateway(new MemoryStore());\nawait g.ready();\n' +
        'console.log(typeof GatewayError, g.listFunctions().length);\nawait g.close();\n',
    );
    const out = execFileSync(process.execPath, ['app.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(out.trim()).toBe('function 0');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm start runs the demo on the in-memory store and exits', () => {
  const out = execFileSync(process.execPath, ['examples/quick-start.js'], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(out).toContain('Configured: Gateway {');
  expect(out).toContain('Refused (CONFLICT, HTTP 400)');
  expect(out).toContain('Second instance: Gateway {');
  expect(out).toContain("welcome-email answered { sent: true, to: 'ada@example.com' }");
  expect(out).toMatch(/Dead letter: users-sync .* could not be reached/);
});

test('requiring the package does not load etcd3 or undici', () => {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      "require('./'); console.log(Object.keys(require.cache).filter((k) => /node_modules\\/(etcd3|undici)\\//.test(k)).length)",
    ],
    { cwd: root, encoding: 'utf8' },
  );
  expect(out.trim()).toBe('0');
});

test('the README lists every error code the library defines, and no other', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const sentence = readme.slice(
    readme.indexOf('The codes: '),
    readme.indexOf('VALIDATION_FAILED`.') + 20,
  );
  const listed = [...sentence.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]).sort();
  const errors = readFileSync(join(root, 'lib', 'errors.ts'), 'utf8');
  const defined = [...new Set([...errors.matchAll(/code = '([A-Z_]+)'/g)].map((m) => m[1]))].sort();
  expect(listed).toEqual(defined);
});
