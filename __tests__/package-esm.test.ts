// The package as ES module users import it: package.json `exports` sends `import` to
// dist/<entry>.mjs (scripts/esm-entries.js), a wrapper over the CommonJS entry. What it loads, and
// its names; the tools (TypeScript, npm pack, a bundler) are in package-esm-tools.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installedPackageFixture, manifest, packageRoot } from './helpers/installed-package';

const dist = join(packageRoot, 'dist');
/**
 * Every entry of the package, from its `exports` map (a new subpath cannot be left out): its
 * import path and its ESM file under dist/.
 */
const ENTRIES = Object.entries(manifest.exports)
  .filter(([path]) => path !== './package.json')
  .map(([path, conditions]) => ({
    path: path === '.' ? 'event-gateway' : `event-gateway/${path.slice(2)}`,
    esm: String((conditions as { import?: { default: string } }).import?.default).slice(6),
  }));
const PATHS = ENTRIES.map(({ path }) => path);

/**
 * The root's names whose CommonJS getter loads code on first use (the deprecated subpath names,
 * the dashboard, the local journal, Prometheus metrics): ESM gets a forwarder for each. A new name
 * here is a decision (a forwarder is not `===` the CommonJS object), so it is listed.
 */
const FORWARDED = [
  'ConsulStore',
  'Dashboard',
  'DashboardEvents',
  'DashboardReplay',
  'EtcdStore',
  'KafkaArchive',
  'KafkaJournal',
  'LocalJournal',
  'S3Archive',
  'ZooKeeperStore',
  'freePort',
  'registerPrometheusMetrics',
  'startConsul',
  'startEtcd',
  'startZooKeeper',
];

const app = installedPackageFixture();

beforeAll(() => {
  // Logs every file the ESM loader loads (what CommonJS modules require() is in require.cache
  // instead): the hooks run on a thread of their own, so they append to a file.
  const hooks = `import { appendFileSync } from 'node:fs';
    export async function load(url, context, next) {
      if (url.startsWith('file:')) appendFileSync(process.env.LOADS_LOG, url + '\\n');
      return next(url, context);
    }`;
  writeFileSync(
    join(app.dir, 'log-loads.mjs'),
    `import { register } from 'node:module';
     register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`,
  );
});

interface Loaded {
  /** The package's own files, under dist/. */
  own: string[];
  /** Everything else outside the app folder (packages), by path. */
  others: string[];
  /** Bytes of all of them. */
  bytes: number;
}

/** What a fresh process running `source` (as `file`) loaded, the app's own scripts left out. */
function loadedBy(file: string, source: string): Loaded {
  const log = join(app.dir, `${file}.loads`);
  writeFileSync(log, '');
  const report = `;const { createRequire: __cr } = await import('node:module');
    console.log(JSON.stringify(Object.keys(__cr(import.meta.url).cache)));`;
  const esm = file.endsWith('.mjs');
  const script = esm
    ? source + report
    : `${source};console.log(JSON.stringify(Object.keys(require.cache)));`;
  writeFileSync(join(app.dir, file), script);
  const out = execFileSync(process.execPath, ['--import', './log-loads.mjs', file], {
    cwd: app.dir,
    encoding: 'utf8',
    env: { ...process.env, LOADS_LOG: log },
  });
  const viaEsm = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((url) => new URL(url).pathname);
  const files = [...new Set([...(JSON.parse(out) as string[]), ...viaEsm])].filter(
    (path) => !path.startsWith(app.dir),
  );
  const own = files.filter((path) => path.startsWith(dist)).map((path) => path.slice(dist.length));
  return {
    own: own.sort(),
    others: files.filter((path) => !path.startsWith(dist)).sort(),
    bytes: files.reduce((sum, path) => sum + statSync(path).size, 0),
  };
}

test('an ESM import of the root loads what require() loads, and the wrapper (no lazy getter runs)', () => {
  const required = loadedBy('root.cjs', `require('event-gateway')`);
  const imported = loadedBy(
    'root.mjs',
    `import { createGateway } from 'event-gateway'; createGateway;`,
  );
  expect(required.own).toEqual(['/core.js', '/index.js']);
  expect(imported.own).toEqual(['/core.js', '/index.js', '/index.mjs']);
  expect(imported.others).toEqual(required.others);
  expect(imported.bytes).toBe(required.bytes + statSync(join(dist, 'index.mjs')).size);
  // Importing every name (the forwarders included) loads no more.
  const all = loadedBy('all.mjs', `import * as all from 'event-gateway'; Object.keys(all);`);
  expect(all.bytes).toBe(imported.bytes);
});

test('every subpath imported from ESM loads what require() loads, and its wrapper', () => {
  for (const { path, esm } of ENTRIES.filter((entry) => entry.path !== 'event-gateway')) {
    const name = path.replace(/\W/g, '-');
    const required = loadedBy(`${name}.cjs`, `require(${JSON.stringify(path)})`);
    const imported = loadedBy(`${name}.mjs`, `import * as all from ${JSON.stringify(path)}; all;`);
    expect({ path, own: imported.own }).toEqual({ path, own: [...required.own, esm].sort() });
    expect(imported.others).toEqual(required.others);
  }
});

test("every entry's names are importable from ESM, each the CommonJS object itself", () => {
  const result = app.run(
    'names.mjs',
    `import { createRequire } from 'node:module';
     const require = createRequire(import.meta.url);
     const report = {};
     for (const path of ${JSON.stringify(PATHS)}) {
       const esm = await import(path);
       const cjs = require(path);
       report[path] = {
         names: Object.keys(esm).filter((name) => name !== 'default').sort(),
         cjsNames: Object.keys(cjs).sort(),
         defaultIsCjs: esm.default === cjs,
         notSame: Object.keys(cjs).filter((name) => esm[name] !== cjs[name]).sort(),
       };
     }
     console.log(JSON.stringify(report));`,
  ) as Record<string, { names: string[]; cjsNames: string[]; notSame: string[] }>;
  for (const path of PATHS) {
    const { names, cjsNames } = result[path];
    expect({ path, names }).toEqual({ path, names: cjsNames });
    expect(result[path]).toMatchObject({ defaultIsCjs: true });
    expect({ path, notSame: result[path].notSame }).toEqual({
      path,
      notSame: path === 'event-gateway' ? FORWARDED : [],
    });
  }
  expect(result['event-gateway'].names).toContain('GatewayError');
});

test('one copy of each class: an error thrown through the ESM import is the CommonJS class', () => {
  const result = app.run(
    'errors.mjs',
    `import { createGateway, GatewayError, ValidationError } from 'event-gateway';
     import { createRequire } from 'node:module';
     const cjs = createRequire(import.meta.url)('event-gateway');
     const gateway = createGateway(undefined, { resyncInterval: 0 });
     let caught;
     try { await gateway.createEventType({ name: '' }); } catch (error) { caught = error; }
     await gateway.close();
     console.log(JSON.stringify({
       sameClass: GatewayError === cjs.GatewayError && ValidationError === cjs.ValidationError,
       esmInstance: caught instanceof GatewayError,
       cjsInstance: caught instanceof cjs.ValidationError,
       code: caught?.code,
     }));`,
  );
  expect(result).toEqual({
    sameClass: true,
    esmInstance: true,
    cjsInstance: true,
    code: 'VALIDATION_FAILED',
  });
});

test('a forwarded class is the CommonJS one in all but identity: new, extends, instanceof, statics', () => {
  const result = app.run(
    'forwarded.mjs',
    `import { LocalJournal, Dashboard, freePort } from 'event-gateway';
     import { createRequire } from 'node:module';
     import { mkdtempSync, rmSync } from 'node:fs';
     import { tmpdir } from 'node:os';
     import { join } from 'node:path';
     const cjs = createRequire(import.meta.url)('event-gateway');
     const directory = mkdtempSync(join(tmpdir(), 'eg-esm-journal-'));
     const journal = new LocalJournal({ directory });
     class Mine extends LocalJournal {}
     const mine = new Mine({ directory: directory + '-mine' });
     const report = {
       typeofs: [typeof LocalJournal, typeof Dashboard, typeof freePort],
       names: [LocalJournal.name, Dashboard.name, freePort.name],
       instance: journal instanceof cjs.LocalJournal && journal instanceof LocalJournal,
       constructor: journal.constructor === cjs.LocalJournal,
       subclass: mine instanceof cjs.LocalJournal && mine instanceof Mine,
       prototype: LocalJournal.prototype === cjs.LocalJournal.prototype,
       foreign: Object.create(cjs.Dashboard.prototype) instanceof Dashboard,
       notAJournal: {} instanceof LocalJournal,
       port: Number.isInteger(await freePort()),
       call: (() => { try { LocalJournal({ directory }); return 'called'; } catch (e) { return e.constructor.name; } })(),
     };
     await journal.close();
     await mine.close();
     rmSync(directory, { recursive: true, force: true });
     rmSync(directory + '-mine', { recursive: true, force: true });
     console.log(JSON.stringify(report));`,
  );
  expect(result).toEqual({
    typeofs: ['function', 'function', 'function'],
    names: ['LocalJournal', 'Dashboard', 'freePort'],
    instance: true,
    constructor: true,
    subclass: true,
    prototype: true,
    foreign: true,
    notAJournal: false,
    port: true,
    call: 'TypeError',
  });
});
