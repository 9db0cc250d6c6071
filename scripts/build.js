// The package's one JavaScript output: esbuild bundles (tsc emits only the declarations, see
// tsconfig.build.json). Bundles because a fresh `require('event-gateway')` of ~130 per-file
// modules costs about three times one bundle's (see BENCHMARKS.md, "Package surface").
//
// Each module lives in exactly one output file, the one that serves every place that uses it: a
// class such as StoreUnavailableError must be the same class whether the root or
// `event-gateway/etcd` throws it, or `instanceof` fails, and a second copy is bytes loaded twice.
// The outputs, from the module graph of every entry of package.json `exports`:
// - dist/core.js: every module the root (lib/index.ts) loads when required;
// - dist/lazy.js: what the code reaches only through a `require()` call run later (the connection
//   runner and its sources, tracing once on, replay), loaded on first use;
// - dist/lazy-<name>.js: what the root re-exports but runs only when the host asks for it (the
//   dashboard, the local journal, Prometheus metrics: ON_FIRST_USE), read on first use;
// - one bundle per entry (dist/index.js, dist/etcd.js, ...): its own modules that no other output
//   uses;
// - dist/shared-<a>+<b>.js: a module that several of those use but the root's core does not (the
//   log stores of `/zookeeper` and `/consul`, the group consumer of `/kafka` and of the Kafka
//   source), read by each of them.
// An output reads another's module through a stub `require('./core.js').m12`; an import of
// another entry (the root's deprecated getters requiring `./etcd`) is a require of its bundle.
// Last, each entry gets its face for ES module importers, dist/<entry>.mjs and .d.mts
// (scripts/esm-entries.js), which package.json `exports` names under `import`.
const esbuild = require('esbuild');
const { rmSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');
const { writeEsmEntry } = require('./esm-entries');

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
/** The output of what is reached only through `require()` calls. */
const LAZY = 'lazy';
/**
 * Modules the root re-exports that a gateway runs only when the host asks for them, by output:
 * the root reads each on first use, as if through a `require()` call, from an output of its own,
 * so that a host using one (a local journal, say) loads none of the others.
 */
const ON_FIRST_USE = {
  'lazy-dashboard': [
    'lib/http/dashboard.ts',
    'lib/http/dashboard-events.ts',
    'lib/http/dashboard-replay.ts',
  ],
  'lazy-journal': ['lib/journal/local-journal.ts'],
  'lazy-prometheus': ['lib/metrics/prometheus.ts'],
};
const laterOutput = new Map(
  Object.entries(ON_FIRST_USE).flatMap(([out, paths]) => paths.map((p) => [join(root, p), out])),
);
/** The outputs loaded on first use. */
const LATER = new Set([LAZY, ...Object.keys(ON_FIRST_USE)]);

const COMMON = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  absWorkingDir: root,
};

/** A require path from output `from` to output `to` (names under dist/, without .js). */
function requirePath(from, to) {
  const path = relative(dirname(join(dist, from)), join(dist, to))
    .split('\\')
    .join('/');
  return path.startsWith('.') ? `${path}.js` : `./${path}.js`;
}

/**
 * The module graph of every entry, from esbuild's own resolution: per module (absolute path), its
 * imports of the package's own modules, each with whether it is a `require()` call.
 */
async function moduleGraph() {
  const probe = await esbuild.build({
    ...COMMON,
    entryPoints: Object.values(ENTRIES),
    write: false,
    metafile: true,
    outdir: dist,
  });
  const graph = new Map();
  const index = join(root, ENTRIES.index);
  for (const [input, { imports }] of Object.entries(probe.metafile.inputs)) {
    const from = join(root, input);
    graph.set(
      from,
      imports
        .filter((edge) => !edge.external)
        .map((edge) => {
          const to = join(root, edge.path);
          const later = (from === index && laterOutput.has(to)) || edge.kind === 'require-call';
          return { to, lazy: later };
        }),
    );
  }
  return graph;
}

/**
 * What each root loads when it is required: its modules, following imports but not `require()`
 * calls (added to `lazy`) nor other entries (their own bundles).
 */
function reach(graph, starts, lazy) {
  const seen = new Set();
  const stack = [...starts];
  while (stack.length > 0) {
    const path = stack.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    for (const { to, lazy: later } of graph.get(path) ?? []) {
      if (entryOf.has(to)) continue;
      if (later) lazy.add(to);
      else stack.push(to);
    }
  }
  return seen;
}

/**
 * The output each module lives in: the root's core when the root loads it, else the one output
 * that uses it, else a shared file named after the outputs that use it.
 */
function placeModules(graph) {
  const later = new Set();
  const roots = new Map();
  for (const [out, source] of Object.entries(ENTRIES)) {
    roots.set(out, reach(graph, [join(root, source)], later));
  }
  // What is reached later, by output (ON_FIRST_USE, else dist/lazy.js), with what it reaches
  // later in turn, until nothing new is found.
  for (let size = -1; size !== later.size;) {
    size = later.size;
    const starts = new Map();
    for (const path of later) {
      const out = laterOutput.get(path) ?? LAZY;
      starts.set(out, [...(starts.get(out) ?? []), path]);
    }
    for (const [out, paths] of starts) roots.set(out, reach(graph, paths, later));
  }
  const users = new Map();
  for (const [out, modules] of roots) {
    for (const path of modules) users.set(path, [...(users.get(path) ?? []), out]);
  }
  const owner = new Map();
  for (const [path, outs] of users) {
    if (entryOf.has(path)) owner.set(path, entryOf.get(path));
    else if (outs.includes('index')) owner.set(path, 'core');
    else if (outs.length === 1) owner.set(path, outs[0]);
    else owner.set(path, `shared-${outs.map((out) => out.replace(/\/index$/, '')).join('+')}`);
  }
  return owner;
}

/**
 * Resolves every import the way esbuild would, then: another entry → an external require of its
 * bundle; a module another output holds → a stub reading its namespace from that output, or, for
 * an import (not a `require()` call) of a module of dist/lazy.js (ON_FIRST_USE), a stub whose
 * exports are getters that load it on first use.
 */
function linker(out, owner, ids) {
  return {
    name: 'link-outputs',
    setup(build) {
      build.onResolve({ filter: /.*/, namespace: 'linked' }, (args) => ({
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
        const home = owner.get(found.path);
        if (home === undefined || home === out) return { path: found.path };
        if (LATER.has(home) && args.kind !== 'require-call') {
          return { path: relative(root, found.path), namespace: 'on-first-use' };
        }
        // Named relative to the package: the output does not depend on where it was built.
        return { path: relative(root, found.path), namespace: 'linked' };
      });
      build.onResolve({ filter: /.*/, namespace: 'on-first-use' }, (args) => ({
        path: args.path,
        external: true,
      }));
      build.onLoad({ filter: /.*/, namespace: 'on-first-use' }, (args) => {
        // Built before the entries: its export names, read from the namespace itself.
        const id = ids.get(join(root, args.path));
        const home = owner.get(join(root, args.path));
        const names = Object.keys(require(join(dist, `${home}.js`))[id]);
        const from = JSON.stringify(requirePath(out, home));
        return {
          contents: [
            `let loaded;`,
            `const load = () => (loaded ??= require(${from}).${id});`,
            `Object.defineProperty(exports, '__esModule', { value: true });`,
            `for (const name of ${JSON.stringify(names)}) {`,
            `  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`,
            `}`,
          ].join('\n'),
          loader: 'js',
        };
      });
      build.onLoad({ filter: /.*/, namespace: 'linked' }, (args) => {
        const path = join(root, args.path);
        const from = JSON.stringify(requirePath(out, owner.get(path)));
        return {
          contents: `module.exports = require(${from}).${ids.get(path)};`,
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
  const owner = placeModules(await moduleGraph());
  const chunks = new Map();
  for (const [path, out] of [...owner].sort(([a], [b]) => a.localeCompare(b))) {
    if (!Object.hasOwn(ENTRIES, out)) chunks.set(out, [...(chunks.get(out) ?? []), path]);
  }
  const ids = new Map([...chunks.values()].flat().map((path, index) => [path, `m${index}`]));
  // 1. The shared outputs (core, lazy, shared-*): each of their modules, as a namespace.
  for (const [out, modules] of chunks) {
    await esbuild.build({
      ...COMMON,
      stdin: {
        contents: modules
          .map((path) => `export * as ${ids.get(path)} from ${JSON.stringify(path)};`)
          .join('\n'),
        resolveDir: root,
        sourcefile: `${out}.ts`,
        loader: 'ts',
      },
      sourcemap: true,
      outfile: join(dist, `${out}.js`),
      plugins: [linker(out, owner, ids)],
    });
  }
  // 2. One bundle per entry.
  for (const [out, source] of Object.entries(ENTRIES)) {
    await esbuild.build({
      ...COMMON,
      entryPoints: [source],
      sourcemap: true,
      outfile: join(dist, `${out}.js`),
      plugins: [linker(out, owner, ids)],
    });
  }
  // 3. Each entry for ES module importers, over its CommonJS bundle (scripts/esm-entries.js).
  for (const out of Object.keys(ENTRIES)) writeEsmEntry(dist, out);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
