// The one part of sinon the SDK's connections tests use (`stub()`, `.returns()`, `.lastCall.args`),
// on jest.fn: sinon is not a dependency of ours, and this is test setup, not an assertion.

/** A sinon-like stub: a function that returns what `.returns(value)` set; `.lastCall.args`. */
export function stub() {
  const fn = jest.fn() as jest.Mock & {
    returns: (value: unknown) => jest.Mock;
    lastCall?: unknown;
  };
  fn.returns = (value: unknown) => fn.mockReturnValue(value);
  Object.defineProperty(fn, 'lastCall', { get: () => ({ args: fn.mock.lastCall }) });
  return fn;
}
