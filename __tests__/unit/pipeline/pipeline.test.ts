import type { Catalog } from '../../../lib/cache/catalog';
import { LocalProvider } from '../../../lib/delivery/providers/local-provider';
import { EventRefusedError } from '../../../lib/errors';
import { IntakeChain } from '../../../lib/intake/intake-chain';
import type { CloudEvent } from '../../../lib/model/cloud-event';
import type { FunctionRecord, LocalHandler } from '../../../lib/model/function';
import { DEFAULT_RETRY } from '../../../lib/model/retry-options';
import { toSubscriptionRecord } from '../../../lib/model/subscription';
import { Pipeline } from '../../../lib/pipeline/pipeline';
import { Admitted } from '../../../lib/pipeline/screen';
import type { IntakePlugin } from '../../../lib/plugins/intake-plugin';
import { Router } from '../../../lib/router/router';
import { rawEvent } from './stages';

const made: Pipeline[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((p) => p.close(100)));
});

/** A pipeline with one local function `f` subscribed to `user.created`, calling `handler`. */
function pipeline(handler: (event: CloudEvent) => unknown, plugins: IntakePlugin[] = []): Pipeline {
  const router = new Router();
  const subscription = toSubscriptionRecord(
    { eventType: 'user.created', functionId: 'f' },
    'default',
  );
  router.apply([
    {
      resource: 'subscription',
      space: 'default',
      id: subscription.subscriptionId,
      record: subscription,
    },
  ]);
  const fn: FunctionRecord = { space: 'default', functionId: 'f', type: 'local', provider: {} };
  const catalog = {
    version: 0,
    get: (kind: string, _space: string, id: string) =>
      kind === 'functions' && id === 'f' ? fn : undefined,
  } as unknown as Catalog;
  const intake = new IntakeChain({ reportError: () => undefined, archiveDropped: () => undefined });
  for (const plugin of plugins) intake.add(plugin);
  const p = new Pipeline({
    catalog,
    router,
    providers: new Map([['local', new LocalProvider()]]),
    defaultSpace: 'default',
    queueSize: 10,
    concurrency: 2,
    functionConcurrency: 2,
    retry: { ...DEFAULT_RETRY, maxAttempts: 1 },
    timeout: 1000,
    maxDataDepth: 64,
    maxHops: 3,
    maxFilterWork: 10_000,
    localHandler: () => handler as LocalHandler,
    emitLocal: () => undefined,
    hasLocalListeners: () => false,
    hasSystemListeners: () => false,
    reportError: () => undefined,
    intake,
  });
  made.push(p);
  return p;
}

describe('the pipeline', () => {
  test('emit: accept -> screen -> route -> dispatch -> outcomes, in one call', async () => {
    const p = pipeline((event) => `hi ${event.id}`);
    const result = await p.emit(rawEvent(), { wait: true });
    expect(result).toMatchObject({ eventId: 'e1', space: 'default', accepted: 1 });
    expect(result.outcomes).toEqual([expect.objectContaining({ ok: true, result: 'hi e1' })]);
    expect(p.metrics.snapshot({ queueDepth: 0, deliveriesPending: 0, plugins: [] })).toMatchObject({
      eventsReceived: 1,
      deliveriesSucceeded: 1,
    });
  });

  test('every way in is the same three steps: accept, screen (a batch whole), dispatch', async () => {
    const got: string[] = [];
    const p = pipeline((event) => void got.push(event.id));
    const accepted = ['a', 'b'].map((id) => p.accept(rawEvent({ id }), {}, 'batch'));
    const admitted = await p.screenAll(accepted);
    for (const one of admitted) await p.dispatch(one, true);
    expect(got).toEqual(['a', 'b']);
  });

  test('a refused batch dispatches nothing', async () => {
    const got: string[] = [];
    const p = pipeline(
      (event) => void got.push(event.id),
      [{ name: 'no-b', onEvent: (e) => (e.id === 'b' ? { refuse: 'no' } : undefined) }],
    );
    const accepted = ['a', 'b'].map((id) => p.accept(rawEvent({ id }), {}, 'batch'));
    await expect(p.screenAll(accepted)).rejects.toThrow(EventRefusedError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toEqual([]);
  });

  test('dispatch takes only what the screen stage admitted', async () => {
    const p = pipeline(() => undefined);
    const real = await p.screen(p.accept(rawEvent(), {}, 'http'));
    const lookAlike = { ...real } as Admitted;
    await expect(p.dispatch(lookAlike)).rejects.toThrow(TypeError);
    expect(real).toBeInstanceOf(Admitted);
  });

  test('a replay dry run: the functions an accepted event would go to', () => {
    const p = pipeline(() => undefined);
    expect(p.wouldDeliver(p.accept(rawEvent(), {}, 'replay'))).toEqual(['f']);
    expect(p.wouldDeliver(p.accept(rawEvent({ type: 'user.deleted' }), {}, 'replay'))).toEqual([]);
  });
});
