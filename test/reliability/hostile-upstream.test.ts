// A hostile (or broken) upstream cannot take the gateway's memory or time (issue 14, point 1):
// `npm start` in a process of its own, in front of a raw upstream that sends an endless error
// body, a 200 MB answer, or a 50 MB stream line without a newline. Each attack is bounded (the
// upstream stops when the gateway hangs up, or after its size); the gateway's RSS is read from
// /proc and /health is probed while it runs. The figures (printed) are in docs/benchmarks.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mb, pump, rssMb, watch } from './attack.ts';
import { configYaml, create, startChildGateway, startRawUpstream, type ChildGateway, type RawUpstream } from './system.ts';

const MB = 1024 * 1024;
/** Growth of the gateway's RSS allowed during one attack: the default caps hold 64 MB (an answer) or 16 M characters (an event). */
const GROWTH_LIMIT_MB = 300;

let raw: RawUpstream;
let gw: ChildGateway;
let dir: string;
let pid: number;
/** Fires when an attack must stop (a build without the limits): the upstream stops sending. */
let stopped: AbortSignal | undefined;

beforeAll(async () => {
  raw = await startRawUpstream(['raw-model']);
  dir = mkdtempSync(join(tmpdir(), 'hostile-upstream-'));
  const configPath = join(dir, 'config.yaml');
  // The read limits are left at their defaults: those are what is promised.
  writeFileSync(configPath, configYaml([`"${raw.url}"`], { model_list_ttl_ms: 600_000, max_attempts: 1, upstream_timeout_ms: 20_000 }));
  gw = await startChildGateway({ configPath, dataDir: join(dir, 'data') });
  pid = gw.proc.pid!;
  // Warm up (model list, handler, DynamoDB tables), so the baseline is the steady state.
  raw.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }));
  };
  expect((await create(`${gw.url}/v1`, { model: 'raw-model', input: 'warm up', store: false })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await gw?.kill('SIGKILL');
  await raw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** Runs `attack` while watching the gateway; stops the attack if memory runs away (a build without the limits). */
async function underAttack<T>(name: string, attack: (stop: AbortSignal) => Promise<T>) {
  const before = rssMb(pid);
  const stop = new AbortController();
  stopped = stop.signal;
  const w = watch(pid, gw.url, { abortAboveMb: 2 * GROWTH_LIMIT_MB, abortSlowerThanMs: 5_000, onLimit: () => stop.abort() });
  const t0 = performance.now();
  const figures = { attack: name, rss_before_mb: Math.round(before), rss_peak_mb: 0, growth_mb: 0, slowest_health_ms: 0, health_probes: 0, ms: 0 };
  let result: T;
  try {
    result = await attack(stop.signal);
  } finally {
    await w.stop();
    Object.assign(figures, {
      rss_peak_mb: Math.round(w.peakMb), growth_mb: Math.round(w.peakMb - before), slowest_health_ms: Math.round(w.slowestHealthMs),
      health_probes: w.probes, ms: Math.round(performance.now() - t0), stopped_at_a_limit: stop.signal.aborted,
    });
    console.log(JSON.stringify(figures));
  }
  return { result, figures };
}

describe('a hostile upstream costs the gateway neither memory nor its health check', () => {
  it('an endless error body: the first KB are read, the rest and the connection dropped; a clean 502', async () => {
    let sent = 0;
    raw.handler = async (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      sent = await pump(res, 2 * 1024 * MB, 'error! ', '', '', stopped); // 2 GB, unless the gateway hangs up first
    };
    const { result, figures } = await underAttack('endless 500 body', (stop) => create(`${gw.url}/v1`, { model: 'raw-model', input: 'x', store: false }, stop));
    expect(result.status).toBe(502);
    expect(result.json.error.message).toMatch(/HTTP 500: error! error!/);
    expect(result.json.error.message.length).toBeLessThan(1_200); // capped
    expect(figures.growth_mb).toBeLessThan(GROWTH_LIMIT_MB);
    expect(figures.slowest_health_ms).toBeLessThan(1_000);
    // The gateway hung up after the first few KB (what it took is what the sockets buffered).
    expect(mb(sent)).toBeLessThan(64);
  }, 120_000);

  it('an endless error body from the tokenizer: the first KB are read, the rest and the connection dropped; the count is estimated', async () => {
    let sent = 0;
    raw.other = async (req, res) => {
      if (req.url !== '/tokenize') return void res.writeHead(404).end();
      res.writeHead(500, { 'content-type': 'text/plain' });
      sent = await pump(res, 2 * 1024 * MB, 'error! ', '', '', stopped); // 2 GB, unless the gateway hangs up first
    };
    try {
      const { result, figures } = await underAttack('endless 500 body from /tokenize', async (stop) => {
        const res = await fetch(`${gw.url}/v1/responses/input_tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'raw-model', input: 'x' }), signal: stop });
        return { status: res.status, json: await res.json() as any };
      });
      expect(result.status).toBe(200);
      expect(result.json).toMatchObject({ object: 'response.input_tokens', estimated: true });
      expect(figures.growth_mb).toBeLessThan(GROWTH_LIMIT_MB);
      expect(mb(sent)).toBeLessThan(64);
    } finally {
      raw.other = undefined;
    }
  }, 120_000);

  it('a 200 MB answer: cut at max_upstream_response_bytes (64 MB by default), a 502 that says so', async () => {
    let sent = 0;
    raw.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      sent = await pump(res, 200 * MB, 'a', '{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"', '"}}]}', stopped);
    };
    const { result, figures } = await underAttack('200 MB non-stream answer', (stop) => create(`${gw.url}/v1`, { model: 'raw-model', input: 'x', store: false }, stop));
    expect(result.status).toBe(502);
    expect(result.json.error.message).toMatch(/larger than the limit of 67108864 bytes \(max_upstream_response_bytes\)/);
    expect(figures.growth_mb).toBeLessThan(GROWTH_LIMIT_MB);
    expect(figures.slowest_health_ms).toBeLessThan(1_000);
    expect(mb(sent)).toBeLessThan(100);
  }, 120_000);

  it('a 50 MB stream line without a newline: parsed in linear time, cut at max_upstream_event_bytes, the stream ends failed', async () => {
    let sent = 0;
    raw.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' } }] })}\n\n`);
      sent = await pump(res, 50 * MB, 'a', 'data: {"choices":[{"index":0,"delta":{"content":"', '', stopped);
    };
    const { result, figures } = await underAttack('50 MB SSE line', (stop) => create(`${gw.url}/v1`, { model: 'raw-model', input: 'x', store: false, stream: true }, stop));
    expect(result.status).toBe(200);
    const failed = result.text.split('\n\n').filter((f) => f.includes('"type":"response.failed"'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/larger than the limit of 16777216 characters \(max_upstream_event_bytes\)/);
    expect(figures.growth_mb).toBeLessThan(GROWTH_LIMIT_MB);
    expect(figures.slowest_health_ms).toBeLessThan(1_000);
    expect(mb(sent)).toBeLessThan(50);
  }, 180_000);
});
