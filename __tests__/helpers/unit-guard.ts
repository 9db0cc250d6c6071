import childProcess, { ChildProcess } from 'node:child_process';
import { Server } from 'node:net';

/**
 * The unit project's promise: no listening server and no child process. A unit test that starts
 * one fails here, naming what it started, instead of quietly making `npm run test:unit` slow or
 * dependent on the machine: such a test belongs to the integration project (jest.config.js).
 *
 * Node's core modules are shared by every test file a Jest worker runs, and the two projects
 * share workers: the originals come back after the file.
 */
// Every async way to a child process (spawn, exec, execFile, fork) goes through this undocumented method.
const childProto = ChildProcess.prototype as unknown as { spawn: (...args: unknown[]) => unknown };
const originals = {
  listen: Server.prototype.listen,
  spawn: childProto.spawn,
  spawnSync: childProcess.spawnSync,
  execSync: childProcess.execSync,
  execFileSync: childProcess.execFileSync,
};

function refuse(what: string): never {
  throw new Error(`a unit test ${what}: move it to the integration project (jest.config.js)`);
}

Server.prototype.listen = function listen(this: Server) {
  return refuse('started a listening server (net/http Server.listen)');
} as typeof Server.prototype.listen;
childProto.spawn = function spawn() {
  return refuse('started a child process');
};
childProcess.spawnSync = (() => refuse('ran a child process')) as typeof childProcess.spawnSync;
childProcess.execSync = (() => refuse('ran a child process')) as typeof childProcess.execSync;
childProcess.execFileSync = (() =>
  refuse('ran a child process')) as typeof childProcess.execFileSync;

afterAll(() => {
  Server.prototype.listen = originals.listen;
  childProto.spawn = originals.spawn;
  childProcess.spawnSync = originals.spawnSync;
  childProcess.execSync = originals.execSync;
  childProcess.execFileSync = originals.execFileSync;
});
