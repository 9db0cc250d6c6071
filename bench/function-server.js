// A minimal HTTP function in its own process, for the HTTP benchmarks: answers every request
// with a small JSON body, prints its port, exits when its parent does.
const { createServer } = require('node:http');

const body = JSON.stringify({ ok: true });
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
