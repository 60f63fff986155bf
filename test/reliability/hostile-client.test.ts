// A hostile client cannot take the local server's memory, connections or time (issue 14, point
// 4): `npm start` in a process of its own, with client keys, faced with raw sockets. The key is
// checked from the headers before a body is read; connections are capped; slow headers and
// bodies get their 408 in seconds. The figures (printed) are in docs/benchmarks.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssMb, watch } from './attack.ts';
import { configYaml, sleep, startChildGateway, startRawUpstream, type ChildGateway, type RawUpstream } from './system.ts';

const BODY_LIMIT = 6 * 1024 * 1024;
const HEADER_TIMEOUT_MS = 1_000;
const BODY_TIMEOUT_MS = 2_000;
const MAX_CONNECTIONS = 200;

let raw: RawUpstream;
let gw: ChildGateway;
let dir: string;
let port: number;
const sockets = new Set<Socket>();

beforeAll(async () => {
  raw = await startRawUpstream(['raw-model']);
  dir = mkdtempSync(join(tmpdir(), 'hostile-client-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, `${configYaml([`"${raw.url}"`], {
    model_list_ttl_ms: 600_000,
    client_header_timeout_ms: HEADER_TIMEOUT_MS,
    client_body_timeout_ms: BODY_TIMEOUT_MS,
    max_connections: MAX_CONNECTIONS,
  })}\nrouter_api_keys:\n  alice: key-alice-0123456789\n`);
  gw = await startChildGateway({ configPath, dataDir: join(dir, 'data') });
  port = Number(new URL(gw.url).port);
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await gw?.kill('SIGKILL');
  await raw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

interface RawExchange {
  socket: Socket;
  /** Resolves with the status of the first answer (0 when the connection closed without one). */
  status: Promise<number>;
  /** When the status line arrived (performance.now()). */
  answeredAt: () => number;
  /** Bytes of body written (after the head). */
  sent: () => number;
}

/** A raw request: `head` at once, then `bodyBytes` of body as fast as the server takes them (or one every `slowMs`). */
function rawRequest(head: string, bodyBytes = 0, opts: { slowMs?: number; stop?: AbortSignal } = {}): RawExchange {
  const socket = connect(port, '127.0.0.1');
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => undefined);
  let text = '';
  let answeredAt = 0;
  let sent = 0;
  const status = new Promise<number>((resolve) => {
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m && !answeredAt) {
        answeredAt = performance.now();
        resolve(Number(m[1]));
      }
    });
    socket.on('close', () => resolve(0));
  });
  const chunk = Buffer.alloc(64 * 1024, 'a');
  socket.once('connect', async () => {
    if (opts.slowMs) {
      for (const ch of head) {
        if (socket.destroyed || answeredAt) return;
        socket.write(ch);
        await sleep(opts.slowMs);
      }
      return;
    }
    socket.write(head);
    while (sent < bodyBytes && !socket.destroyed && !opts.stop?.aborted) {
      const n = Math.min(chunk.length, bodyBytes - sent);
      sent += n;
      if (!socket.write(chunk.subarray(0, n))) await new Promise((r) => { socket.once('drain', r); socket.once('close', r); });
    }
  });
  return { socket, status, answeredAt: () => answeredAt, sent: () => sent };
}

const postHead = (contentLength: number, auth = '') =>
  `POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n${auth}\r\n`;

describe('the local server against hostile clients', () => {
  it('150 keyless connections each sending 6 MB - 1 byte: each gets its 401 at once, the bodies cost no memory', async () => {
    const pid = gw.proc.pid!;
    const before = rssMb(pid);
    const stop = new AbortController();
    const w = watch(pid, gw.url, { abortAboveMb: 600, onLimit: () => stop.abort() });
    const t0 = performance.now();
    const clients = Array.from({ length: 150 }, () => rawRequest(postHead(BODY_LIMIT), BODY_LIMIT - 1, { stop: stop.signal }));
    const statuses = await Promise.race([Promise.all(clients.map((c) => c.status)), sleep(30_000).then(() => [])]);
    // Every body sent in full (the server took it and threw it away), each connection held open.
    await Promise.race([(async () => { while (!stop.signal.aborted && clients.some((c) => c.sent() < BODY_LIMIT - 1 && !c.socket.destroyed)) await sleep(50); })(), sleep(30_000)]);
    await sleep(500);
    await w.stop();
    const times = clients.map((c) => c.answeredAt() - t0).filter((t) => t > 0).sort((a, b) => a - b);
    const figures = {
      attack: '150 keyless 6 MB - 1 byte bodies', rss_before_mb: Math.round(before), rss_peak_mb: Math.round(w.peakMb), growth_mb: Math.round(w.peakMb - before),
      bodies_sent_mb: Math.round(clients.reduce((n, c) => n + c.sent(), 0) / 1024 / 1024), first_401_ms: Math.round(times[0] ?? -1), last_401_ms: Math.round(times.at(-1) ?? -1),
      slowest_health_ms: Math.round(w.slowestHealthMs), stopped_at_a_limit: stop.signal.aborted,
    };
    console.log(JSON.stringify(figures));
    for (const c of clients) c.socket.destroy();
    expect(statuses).toHaveLength(150);
    expect(statuses.filter((s) => s !== 401), "answers other than 401").toEqual([]);
    expect(figures.growth_mb).toBeLessThan(100);
  }, 90_000);

  it('a body sent at 1 byte a second gets its 408 within the configured time-outs, in seconds', async () => {
    const t0 = performance.now();
    const c = rawRequest(postHead(100, 'Authorization: Bearer key-alice-0123456789\r\n'));
    await new Promise((r) => c.socket.once('connect', r));
    await sleep(50);
    const trickle = setInterval(() => { if (!c.socket.destroyed) c.socket.write('{'); }, 1_000);
    const status = await Promise.race([c.status, sleep(20_000).then(() => -1)]);
    clearInterval(trickle);
    console.log(JSON.stringify({ attack: 'body at 1 byte/s', status, ms_to_408: Math.round(c.answeredAt() - t0), limit_ms: HEADER_TIMEOUT_MS + BODY_TIMEOUT_MS }));
    expect(status).toBe(408);
  }, 30_000);

  it('headers sent at one byte every 200 ms get their 408 too', async () => {
    const t0 = performance.now();
    const c = rawRequest(`GET /v1/responses/resp_x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'z'.repeat(200)}\r\n\r\n`, 0, { slowMs: 200 });
    const status = await Promise.race([c.status, sleep(20_000).then(() => -1)]);
    console.log(JSON.stringify({ attack: 'headers at 5 bytes/s', status, ms_to_408: Math.round(c.answeredAt() - t0), limit_ms: HEADER_TIMEOUT_MS }));
    expect(status).toBe(408);
  }, 30_000);

  it(`connections past max_connections (${MAX_CONNECTIONS}) are refused, and served again once others close`, async () => {
    const held = Array.from({ length: MAX_CONNECTIONS }, () => rawRequest(''));
    await Promise.all(held.map((c) => new Promise((r) => { c.socket.once('connect', r); c.socket.once('close', r); })));
    await sleep(300); // the server has accepted them all
    const extra = rawRequest('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await Promise.race([extra.status, sleep(10_000).then(() => -1)])).toBe(0); // closed without an answer
    for (const c of held) c.socket.destroy();
    await sleep(300);
    const again = await fetch(`${gw.url}/health`);
    expect(again.status).toBe(200);
  }, 30_000);
});
