// Replaces the SDK's tests/utils/eventGatewayProcess.js, which starts a downloaded Event Gateway 0.9
// binary on fixed ports and waits 4 s: this starts our command (`--dev`) on free loopback ports and
// waits for its start line. The fixed ports a test asks for are ignored (other suites run beside
// this one); the tests use the ports returned.
import { randomUUID } from 'node:crypto';
import { start, type Running } from '../../../../cli/cli-process';

const processStore = new Map<string, Running>();

/** Starts `event-gateway --dev`; resolves with its id and ports, as the SDK's helper does. */
export async function spawn(_ports: { configPort: number; apiPort: number }) {
  const running = await start(['--dev']);
  const id = randomUUID();
  processStore.set(id, running);
  return {
    id,
    configPort: Number(new URL(running.config).port),
    apiPort: Number(new URL(running.events).port),
  };
}

/** Stops the command `id` (SIGKILL: nothing of it is kept, `--dev` is in memory). */
export function shutDown(id: string): void {
  processStore.get(id)?.child.kill('SIGKILL');
  processStore.delete(id);
}
