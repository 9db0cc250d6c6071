import { bodyParser } from '@koa/bodyparser';
import express from 'express';
import Koa from 'koa';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createConfigHandler,
  createEventsHandler,
  expressConfigMiddleware,
  expressMiddleware,
  koaConfigMiddleware,
  koaMiddleware,
  type ConfigApiOptions,
  type EventsApiOptions,
  type Gateway,
} from '../../lib';

/** A running server with the Events API mounted at `url`. */
export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server, mount: string): Promise<ApiServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${mount}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type StartServer = (gateway: Gateway, options?: EventsApiOptions) => Promise<ApiServer>;

/** The hosts the Events API is tested in. */
export const SERVERS: [string, StartServer][] = [
  [
    'node:http',
    (gateway, options) => listen(createServer(createEventsHandler(gateway, options)), ''),
  ],
  [
    'Express 5',
    (gateway, options) => {
      const app = express();
      app.get('/health', (_req, res) => void res.send('ok'));
      app.use('/events', expressMiddleware(gateway, options));
      return listen(createServer(app), '/events');
    },
  ],
  [
    'Express 5 after express.json() and express.text()',
    (gateway, options) => {
      const app = express();
      app.use(express.json(), express.text());
      app.use('/events', expressMiddleware(gateway, options));
      return listen(createServer(app), '/events');
    },
  ],
  [
    'Koa 3',
    (gateway, options) => {
      const app = new Koa();
      app.use(koaMiddleware(gateway, { basePath: '/events', ...options }));
      return listen(createServer(app.callback()), '/events');
    },
  ],
  [
    'Koa 3 after @koa/bodyparser',
    (gateway, options) => {
      const app = new Koa();
      app.use(bodyParser());
      app.use(koaMiddleware(gateway, { basePath: '/events', ...options }));
      return listen(createServer(app.callback()), '/events');
    },
  ],
];

export type StartConfigServer = (
  gateway: Gateway,
  options?: ConfigApiOptions,
) => Promise<ApiServer>;

/** The hosts the Configuration API is tested in (`url` is where `/v1` starts). */
export const CONFIG_SERVERS: [string, StartConfigServer][] = [
  [
    'node:http',
    (gateway, options) => listen(createServer(createConfigHandler(gateway, options)), ''),
  ],
  [
    'Express 5',
    (gateway, options) => {
      const app = express();
      app.use('/admin', expressConfigMiddleware(gateway, options));
      return listen(createServer(app), '/admin');
    },
  ],
  [
    // A JSON body parser that ran first answers bad JSON itself (400, its own body).
    'Express 5 after express.json()',
    (gateway, options) => {
      const app = express();
      app.use(express.json());
      app.use('/admin', expressConfigMiddleware(gateway, options));
      return listen(createServer(app), '/admin');
    },
  ],
  [
    'Koa 3',
    (gateway, options) => {
      const app = new Koa();
      app.use(koaConfigMiddleware(gateway, { basePath: '/admin', ...options }));
      return listen(createServer(app.callback()), '/admin');
    },
  ],
  [
    'Koa 3 after @koa/bodyparser',
    (gateway, options) => {
      const app = new Koa();
      // Its body parser answers bad JSON itself (and would log it to the console).
      app.silent = true;
      app.use(bodyParser());
      app.use(koaConfigMiddleware(gateway, { basePath: '/admin', ...options }));
      return listen(createServer(app.callback()), '/admin');
    },
  ],
];
