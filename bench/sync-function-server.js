// A sync HTTP function in its own process: answers the Event Gateway response object.
const { createServer } = require('node:http');

const answer = JSON.stringify({
  statusCode: 200,
  headers: { 'content-type': 'text/plain' },
  body: 'hello',
});
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(answer),
    });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
