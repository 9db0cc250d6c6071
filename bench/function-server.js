// An HTTP function in its own process, for the HTTP benchmarks: answers every request with the
// JSON given as its argument (default {"ok":true}), or with `--stamp`, with the moment the request
// arrived ({"at": "<process.hrtime ns>"}: one monotonic clock for every process on the machine);
// prints its port to the parent, exits with it.
const { createServer } = require('node:http');

const stamp = process.argv[2] === '--stamp';
const fixed = stamp ? undefined : (process.argv[2] ?? JSON.stringify({ ok: true }));
const server = createServer((req, res) => {
  const arrived = process.hrtime.bigint();
  req.resume();
  req.on('end', () => {
    const body = fixed ?? `{"at":"${arrived}"}`;
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
