import { execFile, execFileSync, spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';

// The unit project's guard (__tests__/helpers/unit-guard.ts) must stop what would make a unit
// test depend on the machine: a listening socket or a child process.
test('a unit test cannot listen on a port', () => {
  expect(() => createServer().listen(0, '127.0.0.1')).toThrow(/listening server/);
  expect(() => createHttpServer().listen(0, '127.0.0.1')).toThrow(/listening server/);
});

test('a unit test cannot start a child process', () => {
  expect(() => spawn(process.execPath, ['-e', ''])).toThrow(/child process/);
  expect(() => execFile(process.execPath, ['-e', ''])).toThrow(/child process/);
  expect(() => execFileSync(process.execPath, ['-e', ''])).toThrow(/child process/);
});
