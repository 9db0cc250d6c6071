// The command's logs go to a pipe a supervisor holds; if that reader goes away (EPIPE), the
// command must still stop cleanly on SIGTERM: it used to hang with JSON logs (pino's destination)
// and crash without draining with text logs.
import { once } from 'node:events';
import { killChildren, start } from './cli-process';

afterAll(killChildren);

test.each(['json', 'text'])(
  'with %s logs whose reader went away, SIGTERM still drains and exits 0',
  async (format) => {
    const running = await start(['--dev', '--log-format', format]);
    // The reader goes away: the next log line (the drain's) meets a closed pipe.
    running.child.stdout?.destroy();
    running.child.stderr?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exited = once(running.child, 'exit');
    running.child.kill('SIGTERM');
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('no exit within 10 s of SIGTERM')), 10_000).unref(),
    );
    const [code, signal] = (await Promise.race([exited, timeout])) as [number | null, string];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  },
);
