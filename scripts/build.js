// The package's one JavaScript output: an esbuild bundle per entry of package.json `exports`
// (tsc emits only the declarations, see tsconfig.build.json). Bundles because a fresh
// `require('event-gateway')` of ~130 per-file modules costs about three times one bundle's (see
// BENCHMARKS.md, "Package surface").
//
// Every module the root uses lives once, in dist/core.js, and every entry (the root's own
// dist/index.js included) reads it from there: a class such as StoreUnavailableError must be the
// same class whether the root or `event-gateway/etcd` throws it, or `instanceof` fails. A module
// only subpaths use is bundled into each subpath that uses it. An import of another entry (the
// root's deprecated getters requiring `./etcd`) stays a require of that entry's file.
const esbuild = require('esbuild');
const { readFileSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

const root = resolve(__dirname, '..');
const dist = join(root, 'dist');

/** Output name (under dist/, without .js) → source, one per `exports` entry of package.json. */
const ENTRIES = {
  index: 'lib/index.ts',
  etcd: 'lib/etcd.ts',
  zookeeper: 'lib/zookeeper.ts',
  consul: 'lib/consul.ts',
  aws: 'lib/aws.ts',
  kafka: 'lib/kafka.ts',
  dev: 'lib/dev.ts',
  'testing/index': 'lib/testing/index.ts',
};
const entryOf = new Map(Object.entries(ENTRIES).map(([out, src]) => [join(root, src), out]));

const COMMON = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  absWorkingDir: root,
};

/** A require path from output `from` (a name in ENTRIES, or 'core') to output `to`. */
function requirePath(from, to) {
  const path = relative(dirname(join(dist, from)), join(dist, to))
    .split('\\')
    .join('/');
  return path.startsWith('.') ? `${path}.js` : `./${path}.js`;
}

/**
 * Resolves every import the way esbuild would, then: another entry → an external require of its
 * bundle; a module of `core` (when given) → a stub reading its namespace from dist/core.js.
 */
function linker(out, core) {
  return {
    name: 'link-entries',
    setup(build) {
      build.onResolve({ filter: /core\.js$/, namespace: 'core' }, (args) => ({
        path: args.path,
        external: true,
      }));
      build.onResolve({ filter: /^\./, namespace: 'file' }, async (args) => {
        if (args.pluginData === 'resolving' || args.kind === 'entry-point') return undefined;
        const found = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          pluginData: 'resolving',
        });
        if (found.errors.length > 0) return { errors: found.errors };
        const other = entryOf.get(found.path);
        if (other !== undefined && other !== out) {
          return { path: requirePath(out, other), external: true };
        }
        if (core?.has(found.path)) return { path: found.path, namespace: 'core' };
        return { path: found.path };
      });
      build.onLoad({ filter: /.*/, namespace: 'core' }, (args) => {
        const from = JSON.stringify(requirePath(out, 'core'));
        return {
          contents: `module.exports = require(${from}).${core.get(args.path)};`,
          loader: 'js',
        };
      });
    },
  };
}

async function main() {
  // A clean dist/: no file of an earlier build (per-file output, say) may ship. tsc writes the
  // declarations after this script (package.json `build`).
  rmSync(dist, { recursive: true, force: true });
  // 1. The modules the root uses (other entries excluded).
  const probe = await esbuild.build({
    ...COMMON,
    entryPoints: [ENTRIES.index],
    write: false,
    metafile: true,
    outfile: join(dist, 'index.js'),
    plugins: [linker('index')],
  });
  const modules = Object.keys(probe.metafile.inputs)
    .map((input) => join(root, input))
    .filter((path) => !entryOf.has(path))
    .sort();
  const core = new Map(modules.map((path, index) => [path, `m${index}`]));
  // 2. dist/core.js: each of those modules, as a namespace.
  await esbuild.build({
    ...COMMON,
    stdin: {
      contents: modules
        .map((path) => `export * as ${core.get(path)} from ${JSON.stringify(path)};`)
        .join('\n'),
      resolveDir: root,
      sourcefile: 'core.ts',
      loader: 'ts',
    },
    sourcemap: true,
    outfile: join(dist, 'core.js'),
  });
  // 3. One bundle per entry, reading core modules from dist/core.js.
  for (const [out, source] of Object.entries(ENTRIES)) {
    await esbuild.build({
      ...COMMON,
      entryPoints: [source],
      sourcemap: true,
      outfile: join(dist, `${out}.js`),
      plugins: [linker(out, core)],
    });
  }
  // 4. The root's deprecated names are getters defined at run time; name them for Node's ESM
  // importers too (cjs-module-lexer reads this esbuild-style annotation).
  const names = Object.keys(require(join(dist, 'index.js')));
  const index = join(dist, 'index.js');
  const text = readFileSync(index, 'utf8');
  const at = text.lastIndexOf('//# sourceMappingURL=');
  const note = `0 && (module.exports = { ${names.join(', ')} });\n`;
  writeFileSync(index, text.slice(0, at) + note + text.slice(at));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
