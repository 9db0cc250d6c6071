// The configuration of the cold-start benchmarks: `functions` functions and subscriptions up to
// `entries` keys in all, as the gateway stores them.

/** The puts that store the configuration under `prefix`. */
function configurationEntries(prefix, entries, functions) {
  const fn = (i) => ({
    space: 'default',
    functionId: `fn${i}`,
    type: 'http',
    provider: { url: `http://127.0.0.1:1/fn${i}` },
  });
  const ops = [];
  for (let i = 0; i < functions; i++)
    ops.push({
      type: 'put',
      key: `${prefix}/functions/default/fn${i}`,
      value: JSON.stringify(fn(i)),
    });
  for (let i = 0; ops.length < entries; i++) {
    const functionId = `fn${i % functions}`;
    const path = `/p${i}`;
    const raw = `async,http.request,${functionId},${encodeURIComponent(path)},POST`;
    const subscriptionId = Buffer.from(raw).toString('base64url');
    const sub = {
      space: 'default',
      subscriptionId,
      type: 'async',
      eventType: 'http.request',
      functionId,
      path,
      method: 'POST',
    };
    ops.push({
      type: 'put',
      key: `${prefix}/subscriptions/default/${subscriptionId}`,
      value: JSON.stringify(sub),
    });
  }
  return ops;
}

module.exports = { configurationEntries };
