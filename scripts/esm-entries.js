// The package's entries for ES module importers (package.json `exports`, `import` conditions):
// dist/<entry>.mjs and its declarations dist/<entry>.d.mts, written by scripts/build.js after the
// CommonJS bundles.
//
// Why a wrapper: Node imports a CommonJS module by building its namespace from every name
// cjs-module-lexer finds, reading each one, so `import { createGateway } from 'event-gateway'`
// ran every lazy getter of the root (the deprecated subpath names, the dashboard, the local
// journal, Prometheus metrics) and loaded ~710 KB where `require()` loads ~440 KB.
//
// What a wrapper is: a default import of the CommonJS entry (one copy of every module and class,
// whichever way a user loads the package), whose names it re-exports as they are, except the
// names whose getter loads code: those are exported as a forwarder (a Proxy of the function or
// class) that loads it on first use: calling, `new`, `extends`, `instanceof` and static members
// all reach the real one, and instances are the real class's. The one thing a forwarder cannot
// give is identity: `import { LocalJournal }` is not `===` the CommonJS `LocalJournal` (an ES
// module's export is a binding, not a getter: it has its value once the module has run).
//
// For that default import to read no name, the CommonJS entry carries none for Node's lexer: the
// export-names annotation esbuild appends to it is taken out (only this wrapper imports it: the
// `exports` map sends every ES module importer here). A plain import rather than `createRequire`,
// so that bundlers (esbuild, webpack) follow it into the CommonJS entry.
const { execFileSync } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const { basename, join } = require('node:path');

/**
 * The names of a built CommonJS entry whose getter loads code (a module, a package or a
 * built-in), read in fresh processes: a name whose getter loads what an earlier one already
 * loaded is found in the next round, which skips the names already found, until reading every
 * other name loads nothing.
 */
function lazyNames(file) {
  const lazy = new Set();
  for (;;) {
    const script = `
      const entry = require(${JSON.stringify(file)});
      const skip = new Set(${JSON.stringify([...lazy])});
      const loaded = () => Object.keys(require.cache).length + process.moduleLoadList.length;
      const found = [];
      for (const name of Object.keys(entry)) {
        if (skip.has(name)) continue;
        const before = loaded();
        const value = entry[name];
        if (loaded() !== before) found.push([name, typeof value]);
      }
      process.stdout.write(JSON.stringify({ names: Object.keys(entry), found }));`;
    const { names, found } = JSON.parse(
      execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }),
    );
    if (found.length === 0) return { names, lazy };
    for (const [name, type] of found) {
      // A forwarder is a function: a lazy object or number would change its `typeof`.
      if (type !== 'function') {
        throw new Error(`${file}: the lazy export ${name} is a ${type}, not a function or class`);
      }
      lazy.add(name);
    }
  }
}

/** The forwarder, written into each wrapper that has lazy names. */
const FORWARDER = `
/** A function or class of the CommonJS entry, loaded (its getter run) on first use. */
function onFirstUse(name) {
  let real;
  const load = () => (real ??= cjs[name]);
  const forwarder = new Proxy(function () {}, {
    get: (_, key) => Reflect.get(load(), key),
    set: (_, key, value) => Reflect.set(load(), key, value),
    has: (_, key) => Reflect.has(load(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(load()),
    apply: (_, self, args) => Reflect.apply(load(), self, args),
    construct: (_, args, newTarget) =>
      Reflect.construct(load(), args, newTarget === forwarder ? load() : newTarget),
  });
  return forwarder;
}
`;

/** esbuild's annotation of a CommonJS bundle's export names, for cjs-module-lexer. */
const EXPORT_NAMES =
  /\/\/ Annotate the CommonJS export names for ESM import in node:\n0 && \(module\.exports = \{[^}]*\}\);\n/;

/** Takes the export names annotation out of a CommonJS entry (see the top of this file). */
function unnameExports(file) {
  const text = readFileSync(file, 'utf8');
  const bare = text.replace(EXPORT_NAMES, '');
  if (bare.includes('0 && (module.exports')) throw new Error(`${file}: an annotation is left`);
  writeFileSync(file, bare);
}

/**
 * Writes dist/<out>.mjs and dist/<out>.d.mts next to the CommonJS entry dist/<out>.js, and takes
 * the export names out of that entry.
 */
function writeEsmEntry(dist, out) {
  const file = join(dist, `${out}.js`);
  unnameExports(file);
  const { names, lazy } = lazyNames(file);
  // `default` is the CommonJS exports object, as Node's own import of it gives.
  if (names.includes('default')) throw new Error(`${file} exports a name \`default\``);
  const plain = names.filter((name) => !lazy.has(name));
  const from = JSON.stringify(`./${basename(file)}`);
  const lines = [
    `// For ES module importers: the CommonJS entry ${basename(file)} (one copy of each class),`,
    `// without running its lazy getters at import (scripts/esm-entries.js). Generated.`,
    `import cjs from ${from};`,
    ...(lazy.size > 0 ? [FORWARDER] : ['']),
    `export default cjs;`,
    `export const { ${plain.join(', ')} } = cjs;`,
    ...names
      .filter((name) => lazy.has(name))
      .map((name) => `export const ${name} = onFirstUse(${JSON.stringify(name)});`),
    ``,
  ];
  writeFileSync(join(dist, `${out}.mjs`), lines.join('\n'));
  const types = [
    `export * from ${from};`,
    `import * as cjs from ${from};`,
    `export default cjs;`,
    ``,
  ];
  writeFileSync(join(dist, `${out}.d.mts`), types.join('\n'));
}

module.exports = { writeEsmEntry };
