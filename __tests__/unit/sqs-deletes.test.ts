import { SqsDeletes, type SendDeleteBatch } from '../../lib/sources/sqs-deletes';

function recorder(answer: SendDeleteBatch = async () => ({})) {
  const requests: string[][] = [];
  const send: SendDeleteBatch = (entries) => {
    requests.push(entries.map((e) => e.ReceiptHandle));
    return answer(entries);
  };
  return { requests, send };
}

test('the acks of one turn share DeleteMessageBatch requests of at most 10', async () => {
  const { requests, send } = recorder();
  const deletes = new SqsDeletes(send);
  const handles = Array.from({ length: 23 }, (_, i) => `h${i}`);
  await Promise.all(handles.map((h) => deletes.delete(h)));
  expect(requests.map((r) => r.length)).toEqual([10, 10, 3]);
  expect(requests.flat()).toEqual(handles);
});

test('an entry SQS could not delete rejects its own ack only', async () => {
  const { send } = recorder(async (entries) => ({
    Failed: [{ Id: entries[1].Id, Code: 'ReceiptHandleIsInvalid', Message: 'expired' }],
  }));
  const deletes = new SqsDeletes(send);
  const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((h) => deletes.delete(h)));
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((outcomes[1] as PromiseRejectedResult).reason.message).toMatch(/ReceiptHandleIsInvalid/);
});

test('a failed request rejects every ack it carried', async () => {
  const { send } = recorder(async () => {
    throw new Error('connection reset');
  });
  const deletes = new SqsDeletes(send);
  const outcomes = await Promise.allSettled(['a', 'b'].map((h) => deletes.delete(h)));
  expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
});

test('drain sends what waits at once and waits for the answers', async () => {
  let answer: () => void = () => undefined;
  const { requests, send } = recorder(() => new Promise((resolve) => (answer = () => resolve({}))));
  const deletes = new SqsDeletes(send);
  const acked = deletes.delete('a');
  let drained = false;
  const draining = deletes.drain().then(() => (drained = true));
  expect(requests).toEqual([['a']]); // sent now, not on the next turn
  await new Promise((resolve) => setImmediate(resolve));
  expect(drained).toBe(false);
  answer();
  await Promise.all([acked, draining]);
  expect(drained).toBe(true);
});
