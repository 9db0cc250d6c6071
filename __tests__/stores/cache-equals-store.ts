import fc from 'fast-check';
import {
  commandsArbitrary,
  propertySettings,
  runSequence,
  serverSubject,
  type StoreKind,
} from '../helpers/cache-truth';
import { storeFixture } from '../helpers/store-fixture';

/**
 * "The cache equals the store" on a real server: random writes by one writer, cut and blocked
 * links, compaction past the caches, restarts, pauses past the silence checks, writes between a
 * relisting's pages; then two caches must equal a fresh listing, and their changes replay to them.
 */
export function describeCacheEqualsStore(kind: StoreKind, numRuns = 6): void {
  jest.setTimeout(120_000);
  const fx = storeFixture(kind);
  let run = 0;

  test(`${kind}: two caches equal the store after random writes and faults, and their changes replay to them`, async () => {
    const writer = fx.store({ requestTimeout: 5000 });
    const links = [
      await fx.proxied({ requestTimeout: 1500, watchCheckInterval: 300 }),
      await fx.proxied({ requestTimeout: 1500, watchCheckInterval: 300 }),
    ];
    const subject = serverSubject(fx, links, writer);
    const { settings, inBudget } = propertySettings(kind, numRuns, 55_000);
    await fc.assert(
      fc.asyncProperty(commandsArbitrary({ restarts: true }), async (commands) => {
        if (!inBudget()) return;
        await runSequence(subject, `/truth-${process.pid}-${++run}/`, commands);
      }),
      settings,
    );
    console.log(`${kind}: ${run} command sequences run (shrinking included)`);
  });
}
