// An HTTP function in its own process, for the HTTP benchmarks: answers every request with the
// JSON given as its argument (default {"ok":true}), prints its port to the parent, exits with it.
const { createServer } = require('node:http');

const body = process.argv[2] ?? JSON.stringify({ ok: true });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
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
