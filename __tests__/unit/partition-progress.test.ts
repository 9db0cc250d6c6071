import { PartitionProgress } from '../../lib/journal/partition-progress';
import { decodeMarks, encodeMarks, marksAt } from '../../lib/journal/finished-marks';
import type { JournalEntry } from '../../lib/journal/journal';

const entries = (...ids: string[]) => ids.map((deliveryId) => ({ deliveryId }) as JournalEntry);
const ids = (list: readonly JournalEntry[]) => list.map((entry) => entry.deliveryId);

test('an offset is committed only past records whose deliveries have all ended', () => {
  const progress = new PartitionProgress();
  progress.take(0, '10', entries('a1', 'a2'));
  progress.take(0, '11', entries('b'));
  progress.take(0, '12', entries('c'));
  expect(progress.unfinished).toBe(4);
  // b and c end first: record 10 still holds the partition at 10 (b and c ride as marks).
  expect(progress.finished(['b', 'c'])).toBe(true);
  expect(progress.committable()).toEqual([{ partition: 0, offset: '10', metadata: 'egf1;1-2' }]);
  progress.committed([{ partition: 0, offset: '10', metadata: 'egf1;1-2' }]);
  // One of record 10's two deliveries: the offset stays, its mark is committed.
  expect(progress.finished(['a1'])).toBe(true);
  expect(progress.committable()).toEqual([
    { partition: 0, offset: '10', metadata: 'egf1;0:AQ;1-2' },
  ]);
  expect(progress.finished(['a2'])).toBe(true);
  expect(progress.committable()).toEqual([{ partition: 0, offset: '13', metadata: '' }]);
  expect(progress.unfinished).toBe(0);
});

test('partitions progress on their own; unknown and repeated ids change nothing', () => {
  const progress = new PartitionProgress();
  progress.take(0, '5', entries('x'));
  progress.take(1, '7', entries('y'));
  progress.finished(['y', 'y', 'nobody']);
  expect(progress.finished(['y', 'nobody'])).toBe(false);
  expect(progress.committable()).toEqual([
    { partition: 0, offset: '5', metadata: '' },
    { partition: 1, offset: '8', metadata: '' },
  ]);
  expect(progress.unfinished).toBe(1);
});

test('a record fetched again after a rebalance is not taken twice; one given back is', () => {
  const progress = new PartitionProgress();
  const { taken: first } = progress.take(2, '100', entries('a'));
  const { taken: second } = progress.take(2, '101', entries('b'));
  expect(progress.isNew(2, '100')).toBe(false);
  expect(progress.isNew(2, '102')).toBe(true);
  expect(progress.isNew(3, '0')).toBe(true);
  progress.giveBack(2, [second]);
  expect(progress.isNew(2, '101')).toBe(true);
  expect(progress.unfinished).toBe(1);
  progress.finished(['a']);
  expect(first.remaining).toBe(0);
  expect(progress.committable()).toEqual([{ partition: 2, offset: '101', metadata: '' }]);
});

test('partitions assigned elsewhere are forgotten: their new owner commits them', () => {
  const progress = new PartitionProgress();
  progress.take(0, '1', entries('a'));
  progress.take(1, '1', entries('b'));
  progress.keepOnly([1]);
  expect(progress.unfinished).toBe(1);
  expect(progress.finished(['a'])).toBe(false);
  expect(progress.committable()).toEqual([{ partition: 1, offset: '1', metadata: '' }]);
});

test('offsets past 2^53 stay exact', () => {
  const progress = new PartitionProgress();
  progress.take(0, '9007199254740993', entries('a'));
  progress.finished(['a']);
  expect(progress.committable()).toEqual([
    { partition: 0, offset: '9007199254740994', metadata: '' },
  ]);
});

test("the next owner resumes only a partly finished record's unfinished deliveries", () => {
  const before = new PartitionProgress();
  before.take(0, '40', entries('a', 'b', 'c'));
  before.take(0, '41', entries('d'));
  before.take(0, '42', entries('e', 'f'));
  before.finished(['a', 'c', 'd', 'f']);
  const [commit] = before.committable();
  // Offset 40 (b is not done), then a and c of 40, all of 41, f of 42.
  expect(commit).toEqual({ partition: 0, offset: '40', metadata: 'egf1;0:BQ;1;2:Ag' });

  const after = new PartitionProgress();
  after.restore(0, commit.offset, commit.metadata);
  expect(ids(after.take(0, '40', entries('a', 'b', 'c')).open)).toEqual(['b']);
  expect(ids(after.take(0, '41', entries('d')).open)).toEqual([]);
  expect(ids(after.take(0, '42', entries('e', 'f')).open)).toEqual(['e']);
  expect(ids(after.take(0, '43', entries('g')).open)).toEqual(['g']);
  expect(after.unfinished).toBe(3);
  // Its own commits carry the marks on: a third owner would skip them too.
  expect(after.committable()).toEqual([commit]);
  after.finished(['b']);
  expect(after.committable()).toEqual([{ partition: 0, offset: '42', metadata: 'egf1;0:Ag' }]);
});

test('marks of a partition already taken here, or metadata that is not marks, skip nothing', () => {
  const progress = new PartitionProgress();
  progress.take(0, '1', entries('a'));
  progress.restore(0, '1', 'egf1;0-5');
  progress.restore(1, '7', 'written by another tool');
  progress.restore(2, '7', 'egf1;0:!!');
  expect(ids(progress.take(0, '2', entries('b')).open)).toEqual(['b']);
  expect(ids(progress.take(1, '7', entries('c')).open)).toEqual(['c']);
  expect(ids(progress.take(2, '7', entries('d')).open)).toEqual(['d']);
});

test('marks are bounded: what does not fit is left out (made again), never a refused commit', () => {
  const progress = new PartitionProgress(100);
  progress.take(0, '0', entries('held'));
  // Every other record ends: no run of whole records to fold into a range.
  for (let i = 1; i <= 200; i++) progress.take(0, String(i), entries(`x${i}`, `y${i}`));
  for (let i = 1; i <= 200; i++) progress.finished([i % 2 ? `x${i}` : `y${i}`]);
  const [commit] = progress.committable();
  expect(commit.offset).toBe('0');
  expect(commit.metadata.length).toBeLessThanOrEqual(100);
  const read = decodeMarks(commit.metadata);
  expect(marksAt(read, 1)).toEqual(new Uint8Array([1]));
  expect(marksAt(read, 200)).toBeUndefined();
  // Runs of whole records fold into one range, however long.
  const runs = encodeMarks(Array.from({ length: 5000 }, (_, i) => ({ delta: i + 1, marks: true })));
  expect(runs).toBe('egf1;1-5000');
});
