import { PartitionProgress } from '../../lib/journal/partition-progress';
import type { JournalEntry } from '../../lib/journal/journal';

const entries = (...ids: string[]) => ids.map((deliveryId) => ({ deliveryId }) as JournalEntry);

test('an offset is committed only past records whose deliveries have all ended', () => {
  const progress = new PartitionProgress();
  progress.take(0, '10', entries('a1', 'a2'));
  progress.take(0, '11', entries('b'));
  progress.take(0, '12', entries('c'));
  expect(progress.unfinished).toBe(4);
  // b and c end first: record 10 still holds the partition at 10.
  expect(progress.finished(['b', 'c'])).toBe(true);
  expect(progress.committable()).toEqual([{ partition: 0, offset: '10' }]);
  progress.committed([{ partition: 0, offset: '10' }]);
  // One of record 10's two deliveries is not enough.
  expect(progress.finished(['a1'])).toBe(false);
  expect(progress.committable()).toEqual([]);
  expect(progress.finished(['a2'])).toBe(true);
  expect(progress.committable()).toEqual([{ partition: 0, offset: '13' }]);
  expect(progress.unfinished).toBe(0);
});

test('partitions progress on their own; unknown and repeated ids change nothing', () => {
  const progress = new PartitionProgress();
  progress.take(0, '5', entries('x'));
  progress.take(1, '7', entries('y'));
  progress.finished(['y', 'y', 'nobody']);
  expect(progress.committable()).toEqual([
    { partition: 0, offset: '5' },
    { partition: 1, offset: '8' },
  ]);
  expect(progress.unfinished).toBe(1);
});

test('a record fetched again after a rebalance is not taken twice; one given back is', () => {
  const progress = new PartitionProgress();
  const first = progress.take(2, '100', entries('a'));
  const second = progress.take(2, '101', entries('b'));
  expect(progress.isNew(2, '100')).toBe(false);
  expect(progress.isNew(2, '102')).toBe(true);
  expect(progress.isNew(3, '0')).toBe(true);
  progress.giveBack(2, [second]);
  expect(progress.isNew(2, '101')).toBe(true);
  expect(progress.unfinished).toBe(1);
  progress.finished(['a']);
  expect(first.remaining).toBe(0);
  expect(progress.committable()).toEqual([{ partition: 2, offset: '101' }]);
});

test('partitions assigned elsewhere are forgotten: their new owner commits them', () => {
  const progress = new PartitionProgress();
  progress.take(0, '1', entries('a'));
  progress.take(1, '1', entries('b'));
  progress.keepOnly([1]);
  expect(progress.unfinished).toBe(1);
  expect(progress.finished(['a'])).toBe(false);
  expect(progress.committable()).toEqual([{ partition: 1, offset: '1' }]);
});

test('offsets past 2^53 stay exact', () => {
  const progress = new PartitionProgress();
  progress.take(0, '9007199254740993', entries('a'));
  progress.finished(['a']);
  expect(progress.committable()).toEqual([{ partition: 0, offset: '9007199254740994' }]);
});
