/**
 * Tasks run one at a time per key, in the order given, each once the one before it settled
 * (whatever its outcome). A key with nothing pending is forgotten: memory follows the tasks in
 * flight, however many keys there are.
 * @example
 * ```ts
 * const turns = new TurnsByKey();
 * turns.inTurn('default', () => write(a));
 * turns.inTurn('default', () => write(b)); // starts once write(a) settled
 * ```
 */
export class TurnsByKey {
  /** Per key, the last task given, settled either way. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` after the key's earlier tasks; resolves or rejects as it does. */
  inTurn<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves once every task given so far has settled. */
  async settled(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
