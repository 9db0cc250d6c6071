// What the dashboard's HTTP tests share: their keys and a dashboard's server on a free port.
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiKey, Dashboard } from '../../lib';

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

/** A read key for every space, a read key for space `aaa` only, and a write-only key. */
export const KEYS: ApiKey[] = [
  { name: 'admin', hash: sha256('admin-key'), spaces: '*', scopes: ['read'] },
  { name: 'team-aa', hash: sha256('team-a-key'), spaces: ['aaa'], scopes: ['read'] },
  { name: 'writer', hash: sha256('write-key'), spaces: '*', scopes: ['write'] },
];

export type Running = {
  base: string;
  dashboard: Dashboard;
  close(): Promise<void>;
  /** What the host reported as errors (Koa's app 'error' event). */
  appErrors?: unknown[];
};

/** Listens on a free loopback port; `close` closes the dashboard and the server. */
export async function listen(
  server: Server,
  mount: string,
  dashboard: Dashboard,
): Promise<Running> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}${mount}`,
    dashboard,
    close: async () => {
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
