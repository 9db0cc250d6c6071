import fc from 'fast-check';
import { MemoryStore } from '../../lib';
import {
  commandsArbitrary,
  memorySubject,
  propertySettings,
  runSequence,
} from '../helpers/cache-truth';

jest.setTimeout(90_000);

let run = 0;

test('MemoryStore: two caches equal the store after random writes and faults, and their changes replay to them', async () => {
  const { settings, inBudget } = propertySettings('MemoryStore', 60, 45_000);
  await fc.assert(
    fc.asyncProperty(commandsArbitrary({ restarts: false, maxLength: 60 }), async (commands) => {
      if (!inBudget()) return;
      // A short history: blocked watches fall behind it, and get a reset.
      const store = new MemoryStore({ historySize: 40 });
      try {
        await runSequence(memorySubject(store), `/truth-${++run}/`, commands, { settleMs: 3000 });
      } finally {
        await store.close();
      }
    }),
    settings,
  );
  console.log(`MemoryStore: ${run} command sequences run (shrinking included)`);
});
