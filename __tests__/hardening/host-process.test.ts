import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Runs a script as a real host process: Node's default handling of unhandled rejections applies. */
function run(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, script)], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a host provoked by its functions and listeners keeps running and answers every request', async () => {
  const { code, stdout, stderr } = await run('hostile-host.js');
  expect({ code, stderr: stderr.includes('main failed') ? stderr : '' }).toEqual({
    code: 0,
    stderr: '',
  });
  const report = JSON.parse(stdout);
  const failed = [
    500,
    null,
    JSON.stringify({ errors: [{ message: 'Function call failed. Please check logs.' }] }),
  ];
  expect(report.results).toEqual({
    'node crlf': failed,
    'node spacename': failed,
    'node nullproto': failed,
    'express crlf': failed,
    'express spacename': failed,
    'express nullproto': failed,
  });
  expect(report.invoked).toBe('rejected INVOCATION_FAILED');
  expect(report.outcome).toBe(false);
  // The throwing listener, unheard by any gateway.error listener, became a process warning.
  expect(stderr).toMatch(
    /EventGatewayWarning: A "function.invocationFailed" listener failed: listener bug/,
  );
}, 30_000);
