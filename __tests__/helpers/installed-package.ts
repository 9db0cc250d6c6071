import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository: the package as users install it is its build in dist/. */
export const packageRoot = join(__dirname, '..', '..');

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
