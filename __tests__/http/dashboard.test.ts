// The dashboard in a real browser: Debian's chromium, driven by playwright-core. Screenshots go
// to test-artifacts/dashboard/ (gitignored).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  createDashboardHandler,
  createGateway,
  MemoryStore,
  type ArchivedEvent,
  type ArchiveSource,
  type Gateway,
} from '../../lib';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'dashboard');
const KEY = 'dashboard-read-key';
const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

if (!existsSync(CHROMIUM)) {
  throw new Error(`The dashboard tests need Chromium at ${CHROMIUM}: apt-get install chromium`);
}

let gateway: Gateway;
let server: Server;
let handler: ReturnType<typeof createDashboardHandler>;
let base: string;
let browser: Browser;

/** An archive kept in memory (the S3 and Kafka ones are tested in dashboard-replay.test.ts). */
const ARCHIVED_AT = Date.parse('2026-12-05T10:30:00Z');
const archived = (id: string, type: string, data?: unknown): ArchivedEvent => ({
  space: 'default',
  method: 'POST',
  path: '/',
  acceptedAt: ARCHIVED_AT,
  event: { specversion: '1.0', id, source: '/archived', type, ...(data ? { data } : {}) },
});
const memoryArchive: ArchiveSource = {
  name: 'memory',
  async *read(query) {
    const events = [
      archived('a1', 'user.created', { vip: false }),
      archived('a2', 'user.created', { vip: true }),
      archived('a3', 'user.created'),
      archived('a4', 'order.placed'),
      { ...archived('a5', 'user.created'), event: { id: 'a5', type: 'user.created' } }, // invalid
    ];
    for (const e of events) {
      if (e.acceptedAt >= query.from && e.acceptedAt < query.to) yield e;
    }
  },
};

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gateway = createGateway(new MemoryStore(), { retry: { maxAttempts: 2, initialDelay: 1 } });
  await gateway.ready();
  // An archive-like plugin: the page shows what it says of itself (to a key for every space).
  gateway.use({ name: 'archive', stats: () => ({ buffered: 0, written: 7 }) } as never);
  await gateway.registerFunction({ functionId: 'greeter', handler: () => 'hello' });
  await gateway.registerFunction({ functionId: 'auth', handler: () => ({ authorization: {} }) });
  await gateway.registerFunction({
    functionId: 'broken',
    handler: () => {
      throw new Error('the mailbox is full');
    },
  });
  await gateway.registerFunction({
    functionId: 'hook',
    type: 'http',
    provider: { url: 'http://user:hunter2@127.0.0.1:9/hook?token=s3cret' },
  });
  await gateway.createEventType({ name: 'user.created' });
  await gateway.createEventType({ name: 'order.placed', authorizerId: 'auth' });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'greeter' });
  await gateway.subscribe({
    eventType: 'user.created',
    functionId: 'broken',
    filter: { data: { vip: [true] } },
  });
  await gateway.subscribe({ eventType: 'order.placed', functionId: 'hook' });
  handler = createDashboardHandler(gateway, {
    basePath: '/dashboard',
    apiKeys: [{ name: 'viewer', hash: sha256(KEY), spaces: '*', scopes: ['read'] }],
    replaySource: memoryArchive,
  });
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  handler?.dashboard.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await gateway?.close();
});

/** A page whose console errors and uncaught exceptions are collected. */
async function openPage(key?: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  // As when the user gave the key earlier in this tab (the page keeps it in sessionStorage).
  if (key) await page.addInitScript(`sessionStorage.setItem('eg-key', ${JSON.stringify(key)})`);
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return { page, errors };
}

async function showsGraph(page: Page): Promise<void> {
  await page.waitForSelector('#graph code:text("user.created")');
  await page.waitForSelector('#replay:not([hidden])');
}

test('without a key the page loads, its data is refused (401), and it asks for the key', async () => {
  const { page, errors } = await openPage();
  const refused = page.waitForResponse((r) => r.url().endsWith('/api/spaces'));
  const response = await page.goto(base);
  expect(response?.status()).toBe(200);
  expect((await refused).status()).toBe(401);
  await page.waitForSelector('#notice.error');
  expect(await page.textContent('#notice')).toContain('An API key is required.');
  // Expressions as text: the tests compile without the DOM's types.
  expect(await page.evaluate('document.activeElement?.id')).toBe('key');
  expect(await page.locator('#graph li').count()).toBe(0);
  // The one console error is the browser's own report of the refused request.
  expect(errors.filter((text) => !/401/.test(text))).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'without-key.png'), fullPage: true });
  // Given the key, it shows the space.
  await page.fill('#key', KEY);
  await page.press('#key', 'Enter');
  await showsGraph(page);
  expect(await page.textContent('#notice')).toBe('Showing space "default".');
  await page.close();
});

test('with a key it shows the graph, live events within 1 s and a dead letter with its reason', async () => {
  const { page, errors } = await openPage(KEY);
  await page.goto(base);
  await showsGraph(page);
  const graph = await page.textContent('#graph');
  for (const part of [
    'user.created',
    'order.placed',
    'greeter',
    'broken',
    'hook',
    '"vip":[true]',
  ]) {
    expect(graph).toContain(part);
  }
  expect(graph).toMatch(/order\.placed\s*authorized by\s*auth/);
  await page.waitForSelector('#health dt:text("Plugin archive")');
  expect(await page.textContent('#health')).toContain('buffered 0, written 7');
  const body = (await page.textContent('body')) ?? '';
  expect(body).not.toContain('hunter2');
  expect(body).not.toContain('s3cret');

  // The feed is open once the page has asked for it; then an event shows within a second.
  await waitForFeed();
  const started = Date.now();
  await gateway.emit({ specversion: '1.0', id: 'live-1', source: '/test', type: 'user.created' });
  await page.waitForSelector('#live li:has-text("live-1")', { timeout: 1000 });
  const shownMs = Date.now() - started;
  expect(shownMs).toBeLessThan(1000);

  await gateway.emit({
    specversion: '1.0',
    id: 'vip-1',
    source: '/test',
    type: 'user.created',
    data: { vip: true },
  });
  const row = page.locator('#dead tr', { hasText: 'vip-1' });
  await row.waitFor({ timeout: 5000 });
  expect(await row.textContent()).toContain('the mailbox is full');
  expect(await row.textContent()).toContain('broken');
  // The figures table lists the functions that ran.
  await page.waitForSelector('#stats th:text("greeter")', { timeout: 6000 });

  // WCAG AA: every piece of text at 4.5:1 against its background at least.
  expect(await lowContrast(page)).toEqual([]);
  expect(errors).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'with-key.png'), fullPage: true });
  await page.close();
});

test('Tab reaches every control, each with a visible focus, and the dry run works by keyboard', async () => {
  const { page, errors } = await openPage(KEY);
  await page.goto(base);
  await showsGraph(page);
  const controls = await page.$$eval(
    'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])',
    (nodes) => nodes.map((node) => node.id || node.textContent?.trim() || node.tagName),
  );
  await page.evaluate('document.activeElement?.blur()');
  const reached: string[] = [];
  for (let i = 0; i < controls.length + 2; i++) {
    await page.keyboard.press('Tab');
    const focus = (await page.evaluate(`(() => {
      const node = document.activeElement;
      if (!node || node === document.body) return undefined;
      const style = getComputedStyle(node);
      return {
        name: node.id || node.textContent.trim() || node.tagName,
        outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
      };
    })()`)) as { name: string; outline: boolean } | undefined;
    if (!focus) continue;
    expect({ control: focus.name, visibleFocus: focus.outline }).toEqual({
      control: focus.name,
      visibleFocus: true,
    });
    if (!reached.includes(focus.name)) reached.push(focus.name);
  }
  expect(reached.sort()).toEqual([...controls].sort());

  await page.focus('#x-event');
  await page.keyboard.press('Control+A');
  await page.keyboard.type(
    '{"specversion":"1.0","id":"d1","source":"/k","type":"user.created","data":{"vip":false}}',
  );
  await page.focus('#explain button');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#explained li:has-text("would deliver to greeter")');
  expect(await page.textContent('#explained')).toContain(
    'would not deliver to broken (filter failed at data.vip',
  );
  await page.focus('#x-path');
  await page.screenshot({ path: join(ARTIFACTS, 'keyboard.png'), fullPage: true });
  expect(errors).toEqual([]);
  await page.close();
});

test('the replay dry run form works by keyboard: counts per function, and a clear error', async () => {
  const { page, errors } = await openPage(KEY);
  await page.goto(base);
  await showsGraph(page);
  expect(await page.textContent('#replay-state')).toContain('nothing is sent');
  await page.focus('#r-from');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('2026-12-05T10:00:00Z');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('2026-12-05T11:00:00Z');
  await page.keyboard.press('Tab');
  await page.keyboard.type('user.created');
  await page.keyboard.press('Tab');
  expect(await page.evaluate('document.activeElement?.textContent')).toBe('Dry run');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#replayed li:has-text("greeter")');
  const shown = await page.textContent('#replayed');
  expect(shown).toContain('4 events read, 3 would be replayed, 1 refused, 4 deliveries.');
  expect(shown).toContain('greeter: 3 deliveries');
  expect(shown).toContain('broken: 1 delivery');
  expect(shown).toContain('Last refusal: a5');
  expect(await lowContrast(page)).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'replay.png'), fullPage: true });

  // A window the wrong way round: the server's reason, shown in place of the counts.
  await page.focus('#r-to');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('2026-12-05T09:00:00Z');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#replayed p.failed');
  expect(await page.textContent('#replayed')).toBe('"from" must be before "to".');
  // The one console error is the browser's own report of the refused request.
  expect(errors.filter((text) => !/status of 400/.test(text))).toEqual([]);
  expect(errors.length).toBeLessThanOrEqual(1);
  await page.close();
});

test('without an archive the replay form says replay is not configured', async () => {
  const bare = createDashboardHandler(gateway, { basePath: '/dashboard' });
  const bareServer = createServer(bare);
  await new Promise<void>((resolve) => bareServer.listen(0, '127.0.0.1', resolve));
  try {
    const { page, errors } = await openPage();
    await page.goto(`http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/dashboard/`);
    await page.waitForSelector('#replay-state:has-text("not configured")');
    expect(await page.isHidden('#replay')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  } finally {
    bare.dashboard.close();
    bareServer.closeAllConnections();
    await new Promise((resolve) => bareServer.close(resolve));
  }
});

/** Waits until the page's live feed is registered with the dashboard. */
async function waitForFeed(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (handler.dashboard.events.clientCount === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(handler.dashboard.events.clientCount).toBeGreaterThan(0);
}

/** Text whose contrast with its background is under 4.5:1 (WCAG AA for normal text). */
async function lowContrast(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (node) => {
      for (let n = node; n; n = n.parentElement) {
        const c = rgb(getComputedStyle(n).backgroundColor);
        if (c.length < 4 || c[3] > 0) return c;
      }
      return [255, 255, 255];
    };
    const low = [];
    for (const node of document.querySelectorAll('body *')) {
      const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
      if (!own || node.closest('script')) continue;
      const fg = lum(rgb(getComputedStyle(node).color));
      const bg = lum(background(node));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) low.push(node.tagName + ' ' + node.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2));
    }
    return low;
  })()`)) as string[];
}
