import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository: the package as users install it is its build in dist/. */
export const packageRoot = join(__dirname, '..', '..');

/** What the package tests read of its package.json. */
export const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
  /** Each entry: a path, or its conditions (`import`, `default`: `types` and `default` each). */
  exports: Record<string, unknown>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

/** An app folder with the package in its node_modules, and scripts run there. */
export interface InstalledPackage {
  /** The app folder. */
  readonly dir: string;
  /**
   * Writes `source` to `file` in the app folder and runs it in a fresh `node` (with `args` before
   * the file); returns its stdout parsed as JSON.
   */
  run(file: string, source: string, args?: readonly string[]): unknown;
  /** Deletes the app folder. */
  remove(): void;
}

/**
 * A temporary app with `node_modules/event-gateway` linked to the repository, so that its scripts
 * reach the build through the package's `exports` map, as a user's code does.
 * @example
 * ```ts
 * const app = installedPackage();
 * app.run('names.js', `console.log(JSON.stringify(Object.keys(require('event-gateway'))))`);
 * app.remove();
 * ```
 */
export function installedPackage(): InstalledPackage {
  const dir = mkdtempSync(join(tmpdir(), 'eg-surface-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(packageRoot, join(dir, 'node_modules', 'event-gateway'), 'dir');
  return {
    dir,
    run(file, source, args = []) {
      writeFileSync(join(dir, file), source);
      const out = execFileSync(process.execPath, [...args, file], { cwd: dir, encoding: 'utf8' });
      return JSON.parse(out);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The installed package of a test file: made before its tests (a `beforeAll`), deleted after
 * them (an `afterAll`).
 * @example
 * ```ts
 * const app = installedPackageFixture();
 * test('names', () => expect(app.run('n.js', 'console.log(1)')).toBe(1));
 * ```
 */
export function installedPackageFixture(): InstalledPackage {
  let app: InstalledPackage | undefined;
  beforeAll(() => {
    app = installedPackage();
  });
  afterAll(() => app?.remove());
  const current = () => {
    if (!app) throw new Error('the installed package is made in beforeAll: use it in a test');
    return app;
  };
  return {
    get dir() {
      return current().dir;
    },
    run: (file, source, args) => current().run(file, source, args),
    remove: () => current().remove(),
  };
}
