// The ESM entries (scripts/esm-entries.js) as the tools see them: a bundler, TypeScript users
// (module nodenext), and `npm pack`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { installedPackageFixture, manifest, packageRoot } from './helpers/installed-package';

const dist = join(packageRoot, 'dist');

const app = installedPackageFixture();

// A bundler resolves an `import` statement with the `import` condition too: the wrapper must lead
// it into the CommonJS entry (a `createRequire` call it cannot follow left the bundle broken).
test.each(['cjs', 'esm'] as const)(
  'esbuild bundles an ESM import of the package (format %s)',
  async (format) => {
    writeFileSync(
      join(app.dir, 'bundled.mjs'),
      `import { createGateway, LocalJournal, GatewayError } from 'event-gateway';
     import { EtcdStore } from 'event-gateway/etcd';
     const gateway = createGateway(undefined, { resyncInterval: 0 });
     gateway.close().then(() =>
       console.log(JSON.stringify([typeof LocalJournal, typeof GatewayError, typeof EtcdStore])));`,
    );
    const outfile = join(app.dir, `bundle-${format}.${format === 'esm' ? 'mjs' : 'cjs'}`);
    await build({
      absWorkingDir: app.dir,
      entryPoints: ['bundled.mjs'],
      bundle: true,
      platform: 'node',
      format,
      target: 'node20',
      outfile,
      logLevel: 'silent',
      // The package's dependencies and peers stay outside (found through NODE_PATH): the package
      // itself is what is bundled.
      external: Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }),
      // The gateway's own CommonJS code requires built-ins: an ESM bundle needs a require.
      ...(format === 'esm'
        ? {
            banner: {
              js: `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);`,
            },
          }
        : {}),
    });
    const out = execFileSync(process.execPath, [outfile], {
      cwd: app.dir,
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: join(packageRoot, 'node_modules') },
    });
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function']);
  },
);

// ESM and CommonJS TypeScript users (module nodenext) each get the declarations of their entry.
// An ESM user's default import is the CommonJS exports object, as Node's import of CommonJS gave.
test.each([
  ['ESM', 'app.mts', 'index.d.mts', `import eventGateway from 'event-gateway';`],
  ['CommonJS', 'app.cts', 'index.d.ts', `import * as eventGateway from 'event-gateway';`],
])(
  '%s: a TypeScript user compiles against the declarations (module nodenext)',
  (_kind, file, declarations, whole) => {
    writeFileSync(
      join(app.dir, file),
      `import { createGateway, MemoryStore, GatewayError, HopLimitError, LocalJournal,
         EtcdStore as MovedEtcdStore, type EventsGateway } from 'event-gateway';
       ${whole}
       import { EtcdStore } from 'event-gateway/etcd';
       import { KafkaJournal } from 'event-gateway/kafka';
       import { startEtcd } from 'event-gateway/dev';
       import { describeStoreContract } from 'event-gateway/testing';
       const gateway: EventsGateway = createGateway(new MemoryStore());
       const error: GatewayError = new HopLimitError('too many hops');
       const moved: MovedEtcdStore = new EtcdStore({ hosts: ['http://127.0.0.1:2379'] });
       export const all = [gateway, error, moved, LocalJournal, KafkaJournal, startEtcd,
         describeStoreContract, eventGateway.createGateway];
      `,
    );
    const tsc = require.resolve('typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext'];
    args.push('--types', 'node', '--typeRoots', join(packageRoot, 'node_modules', '@types'));
    args.push('--listFiles', file);
    const out = (() => {
      try {
        return execFileSync(process.execPath, [tsc, ...args], { cwd: app.dir, encoding: 'utf8' });
      } catch (failure) {
        return String((failure as { stdout?: string }).stdout);
      }
    })();
    const lines = out.split('\n').filter(Boolean);
    expect(lines.filter((line) => /error TS\d+/.test(line))).toEqual([]);
    const entry = lines.filter((line) => line.startsWith(`${dist}/index.d.`));
    expect(entry.map((line) => line.slice(dist.length + 1))).toContain(declarations);
  },
  60_000,
);

test('the package ships the ESM entries and their declarations', () => {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: packageRoot,
      encoding: 'utf8',
    }),
  ) as [{ files: { path: string }[] }];
  const files = packed.files.map(({ path }) => path);
  const wanted = Object.values(manifest.exports).flatMap((entry) =>
    typeof entry === 'string'
      ? [entry]
      : Object.values(entry as Record<string, Record<string, string>>).flatMap(Object.values),
  );
  expect(wanted).toContain('./dist/index.mjs');
  expect(wanted).toContain('./dist/testing/index.d.mts');
  expect(wanted.filter((path) => !files.includes(path.slice(2)))).toEqual([]);
});
