// The floor of any Node.js gateway, as a baseline for bench/cpu.ts: a node:http server that reads
// the request, sends it on to the upstream's /v1/chat/completions over a keep-alive agent, and
// pipes the answer back. No parsing, no translation, no state. Not a product: a yardstick.
// Env: PORT (0 for any), UPSTREAM (the fake upstream's base URL). Prints the same "listening on"
// line as functions/local/main.ts, so bench/lib.ts starts it the same way.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = new URL(`${process.env.UPSTREAM}/v1/chat/completions`);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const up = http.request(upstream, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, { 'content-type': ur.headers['content-type'] ?? 'application/json' });
      ur.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    up.end(body);
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: `minimal proxy listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` }));
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
