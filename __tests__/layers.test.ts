import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the one statement of the order
const LAYERS = require('../layers.cjs') as { layer: string; paths: string[] }[];

/**
 * Lints each text as if it were the named file, with the project's own ESLint configuration (the
 * one `npm run lint` uses), in a child process: ESLint loads its flat config with `import()`.
 */
function lint(cases: Record<string, { file: string; code: string }>): Record<string, string[]> {
  const script = `
    const { ESLint } = require('eslint');
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const cases = JSON.parse(process.argv[1]);
      const out = {};
      for (const [name, { file, code }] of Object.entries(cases)) {
        const [result] = await eslint.lintText(code, { filePath: file });
        out[name] = result.messages.filter((m) => m.ruleId === 'local/layers').map((m) => m.message);
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const output = execFileSync(process.execPath, ['-e', script, JSON.stringify(cases)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(output) as Record<string, string[]>;
}

describe('the layer rule (layers.cjs, read by eslint.config.mjs)', () => {
  let found: Record<string, string[]>;
  beforeAll(() => {
    found = lint({
      value: { file: 'lib/delivery/x.ts', code: "import { Router } from '../router/router';\n" },
      typeOnly: { file: 'lib/model/x.ts', code: "import type { Gateway } from '../gateway';\n" },
      typeQuery: {
        file: 'lib/store/x.ts',
        code: "export type G = import('../gateway').Gateway;\n",
      },
      reexport: { file: 'lib/cache/x.ts', code: "export * from '../http/events-api';\n" },
      required: {
        file: 'lib/events/x.ts',
        code: "// eslint-disable-next-line @typescript-eslint/no-require-imports\nexport const j = require('../journal/journal');\n",
      },
      dynamic: { file: 'lib/delivery/x.ts', code: "export const p = import('../pipeline/p');\n" },
      nested: { file: 'lib/sinks/deep/x.ts', code: "import '../../adapters/express';\n" },
      unassigned: { file: 'lib/elsewhere/x.ts', code: 'export const x = 1;\n' },
      cliInternals: { file: 'bin/x.js', code: "require('../dist/gateway');\n" },
      downward: {
        file: 'lib/http/x.ts',
        code: "import { Router } from '../router/router';\nimport type { Store } from '../store/store';\nexport type R = Router | Store;\n",
      },
      sameLayer: { file: 'lib/events/x.ts', code: "export * from '../metrics/histogram';\n" },
      cliPublic: { file: 'bin/x.js', code: "require('..');\nrequire('./stores');\n" },
    });
  }, 60000);

  it.each([
    ['value', /"..\/router\/router" is in layer "routing", above "delivery"/],
    ['typeOnly', /"..\/gateway" is in layer "gateway", above "model"/],
    ['typeQuery', /"..\/gateway" is in layer "gateway", above "store"/],
    ['reexport', /layer "http", above "cache"/],
    ['required', /layer "journal", above "events"/],
    ['dynamic', /layer "pipeline", above "delivery"/],
    ['nested', /layer "adapters", above "sinks"/],
    ['unassigned', /"lib\/elsewhere\/x.ts" is in no layer/],
    ['cliInternals', /The command uses only the public API/],
  ])('reports an upward or private import: %s', (name, message) => {
    expect(found[name]).toEqual([expect.stringMatching(message)]);
  });

  it.each(['downward', 'sameLayer', 'cliPublic'])('lets %s imports through', (name) => {
    expect(found[name]).toEqual([]);
  });

  it('places every file of lib/ and bin/ in exactly one layer', () => {
    const files = [...walk(join(ROOT, 'lib')), ...walk(join(ROOT, 'bin'))].map((f) =>
      relative(ROOT, f),
    );
    const unplaced = files.filter((file) => owners(file).length !== 1);
    expect(unplaced).toEqual([]);
  });
});

describe('DESIGN.md', () => {
  it('draws the layers of layers.cjs, in their order (top first)', () => {
    const design = readFileSync(join(ROOT, 'DESIGN.md'), 'utf8');
    const section = design.slice(design.indexOf('## Layers'));
    const picture = section.slice(
      section.indexOf('```') + 3,
      section.indexOf('```', section.indexOf('```') + 3),
    );
    const drawn = [...picture.matchAll(/^ ([a-z]+) {2,}/gm)].map((match) => match[1]);
    expect(drawn).toEqual(LAYERS.map(({ layer }) => layer).reverse());
  });
});

describe('the import graph of lib/', () => {
  it('has no cycle, type imports included', () => {
    const files = walk(join(ROOT, 'lib')).filter((f) => f.endsWith('.ts'));
    const graph = new Map(files.map((file) => [file, importsOf(file)]));
    expect(cycles(graph).map((cycle) => cycle.map((f) => relative(ROOT, f)))).toEqual([]);
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function owners(file: string): string[] {
  const bare = file.replace(/\.(ts|js)$/, '');
  return LAYERS.filter(({ paths }) =>
    paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : bare === p.replace(/\.ts$/, ''))),
  ).map(({ layer }) => layer);
}

/** Every file of lib/ a file imports, in code or in types (TypeScript's own scanner). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name))
    .map((base) => [`${base}.ts`, join(base, 'index.ts')].find((f) => isFile(f)) ?? base)
    .filter((target) => target.endsWith('.ts'));
}

function isFile(path: string): boolean {
  try {
    return readFileSync(path) !== undefined;
  } catch {
    return false;
  }
}

/** The strongly connected components with more than one file (Tarjan), each sorted. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}
