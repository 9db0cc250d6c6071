import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

/** Drives a real `node` REPL: sends one line, waits for the next prompt, returns what it printed. */
class Repl {
  private output = '';
  private readonly child: ChildProcessWithoutNullStreams;

  constructor() {
    this.child = spawn(process.execPath, ['-i'], {
      cwd: root,
      env: { ...process.env, NODE_NO_READLINE: '1', NO_COLOR: '1' },
    });
    this.child.stdout.on('data', (chunk) => (this.output += chunk));
    this.child.stderr.on('data', (chunk) => (this.output += chunk));
  }

  async send(line: string): Promise<string> {
    await this.prompt();
    this.output = '';
    this.child.stdin.write(line + '\n');
    await this.prompt();
    return this.output.replace(/> $/, '').trim();
  }

  private async prompt(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!this.output.endsWith('> ')) {
      if (Date.now() > deadline)
        throw new Error(`REPL: no prompt; got ${JSON.stringify(this.output)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async exit(): Promise<number | null> {
    this.child.stdin.end('.exit\n');
    return new Promise((resolve) => this.child.on('exit', resolve));
  }
}

/** The lines of the README's REPL example (the ```js block under "From the Node REPL"). */
function readmeReplLines(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### From the Node REPL'));
  const block = /```js\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README has no REPL example');
  return block[1]
    .split('\n')
    .filter((line) => line.startsWith('> '))
    .map((line) => line.slice(2));
}

test('the README REPL example works in a real node REPL and prints readable summaries', async () => {
  const lines = readmeReplLines();
  expect(lines.length).toBeGreaterThanOrEqual(5);
  const repl = new Repl();
  const printed: string[] = [];
  for (const line of lines) printed.push(await repl.send(line));
  expect(await repl.exit()).toBe(0);
  const all = printed.join('\n');
  expect(all).not.toMatch(/Uncaught|Error/);
  expect(all).toContain(
    "Gateway { space: 'default', store: MemoryStore, ready, revision: 4, eventTypes: 1, functions: 1, subscriptions: 1, cors: 0 }",
  );
  expect(all).toContain("{ space: 'default', functionId: 'hello', type: 'local', provider: {} }");
  expect(all).toContain("subscriptionId: 'YXN5bmMsdXNlci5jcmVhdGVkLGhlbGxvLCUyRixQT1NU'");
});

test('a typed error prints its code and status in the REPL', async () => {
  const repl = new Repl();
  await repl.send("const { createGateway } = require('.')");
  await repl.send('const gateway = createGateway()');
  const printed = await repl.send("await gateway.deleteFunction({ functionId: 'nope' })");
  expect(printed).toContain('Uncaught NotFoundError: Function "nope" not found.');
  expect(printed).toContain("code: 'NOT_FOUND'");
  expect(printed).toContain('status: 404');
  expect(await repl.exit()).toBe(0);
});
