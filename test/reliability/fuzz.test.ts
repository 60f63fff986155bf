// Bad input, property-based: thousands of generated bodies, paths, query strings, methods and
// raw HTTP messages against every route of the local server (the real handler, dynalite in
// memory, fake upstreams as real HTTP servers). Every answer must come, be below 500, and every
// 4xx must be OpenAI's envelope; the server must keep serving afterwards. Counts are printed.
//
// Requests go over raw TCP (one connection each, `connection: close`) so the bytes are exactly
// the generated ones: fetch would normalise `../`, refuse raw UTF-8 and hide what the server sent.
// Each fast-check run sends a batch of requests in parallel (the concurrency limit).
// Replay a failure with FUZZ_SEED=<seed printed by fast-check>. Bounded: each property stops at
// its run count or after PROPERTY_TIME_LIMIT_MS (shrinking included), each request after
// REQUEST_TIMEOUT_MS.
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type System } from '../helpers/harness.ts';
import {
  CHAT_MODEL, KEY, NATIVE_MODEL, deepBodies, describeRequest, hugeStringBodies, idRequests, inputItemBodies, invalidJsonBodies, invalidUtf8Bodies,
  limitBodies, malformedHttp, malformedPercentIds, methodPathRequests, mutatedBodies, queryRequests, wrongTypeBodies,
  type FuzzRequest, type Seeds,
} from './arbitraries.ts';

const REQUEST_TIMEOUT_MS = 15_000;
const PROPERTY_TIME_LIMIT_MS = 25_000;
const MIN_REQUESTS = 5_000;
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

let sys: System;
let port: number;
let seeds: Seeds;

// ── the wire ────────────────────────────────────────────────────────────────

interface Answer { status: number; headers: Record<string, string>; body: Buffer }

function encodeRequest(r: FuzzRequest): Buffer {
  if (r.raw !== undefined) return Buffer.from(r.raw as string | Uint8Array);
  const body = r.body === undefined ? undefined : Buffer.from(r.body as string | Uint8Array);
  const lines = [`host: 127.0.0.1:${port}`, 'connection: close', ...r.headers.map(([k, v]) => `${k}: ${v}`)];
  if (body !== undefined) lines.push(r.chunked ? 'transfer-encoding: chunked' : `content-length: ${body.length}`);
  const head = Buffer.concat([Buffer.from(`${r.method} `), Buffer.from(r.target as string | Uint8Array), Buffer.from(` HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1')]);
  if (body === undefined) return head;
  if (!r.chunked) return Buffer.concat([head, body]);
  const chunks: Buffer[] = [head];
  for (let at = 0; at < body.length; at += 1 << 20) {
    const piece = body.subarray(at, at + (1 << 20));
    chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(chunks);
}

/**
 * The final answer in the bytes the server sent (1xx skipped), or why there is none yet. With
 * `closed` false, an answer whose length is only known from the connection closing is not done.
 */
function parseAnswer(buf: Buffer, method: string, closed: boolean): Answer | string {
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end < 0) return buf.length === off ? 'no bytes' : 'incomplete head';
    const [statusLine = '', ...lines] = buf.subarray(off, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
    if (!m) return `bad status line ${JSON.stringify(statusLine.slice(0, 60))}`;
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    off = end + 4;
    if (status < 200) continue; // 100 Continue
    if (method === 'HEAD' || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
    const rest = buf.subarray(off);
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      let p = 0;
      for (;;) {
        const eol = rest.indexOf('\r\n', p);
        if (eol < 0) return 'truncated chunked body';
        const size = parseInt(rest.subarray(p, eol).toString('latin1').split(';')[0]!, 16);
        if (!Number.isFinite(size)) return 'bad chunk size';
        if (size === 0) return { status, headers, body: Buffer.concat(parts) };
        if (rest.length < eol + 2 + size) return 'truncated chunked body';
        parts.push(rest.subarray(eol + 2, eol + 2 + size));
        p = eol + 2 + size + 2;
      }
    }
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      return rest.length < n ? `truncated body (${rest.length} of ${n} bytes)` : { status, headers, body: rest.subarray(0, n) };
    }
    return closed ? { status, headers, body: rest } : 'body until close';
  }
}

/**
 * One request on its own connection; resolves on the first complete answer (a raw message may
 * leave the connection open), rejects when none arrives in time.
 */
function send(r: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const chunks: Buffer[] = [];
    let error: Error | undefined;
    let done = false;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const answer = parseAnswer(Buffer.concat(chunks), r.method, false);
      if (typeof answer !== 'string') {
        done = true;
        resolve(answer);
        socket.destroy();
      }
    });
    // EPIPE/ECONNRESET while still sending is normal after an early answer (413): judge what came back.
    socket.on('error', (err) => { error ??= err; });
    socket.on('close', () => {
      if (done) return;
      const answer = parseAnswer(Buffer.concat(chunks), r.method, true);
      if (typeof answer === 'string') reject(new Error(`no complete answer: ${answer}${error ? ` (${error.message})` : ''}`));
      else resolve(answer);
    });
    socket.write(encodeRequest(r));
  });
}

// ── what every answer must be ───────────────────────────────────────────────

const counts = new Map<string, Map<string, number>>();
let total = 0;
const count = (route: string, status: string) => {
  const row = counts.get(route) ?? new Map<string, number>();
  counts.set(route, row);
  row.set(status, (row.get(status) ?? 0) + 1);
  total++;
};

/** Why the answer breaks the contract, or null. */
function violation(r: FuzzRequest, a: Answer): string | null {
  if (a.status >= 500) return `a ${a.status}`;
  if (a.status >= 300 && a.status < 400) return `a ${a.status}`;
  if (typeof r.expect === 'number' && a.status !== r.expect) return `status ${a.status}, expected ${r.expect}`;
  if (r.expect === '4xx' && a.status < 400) return `status ${a.status} for input that is invalid by construction`;
  if (r.method === 'HEAD') return null;
  const text = a.body.toString('utf8');
  if (a.status >= 400) {
    if (!/^application\/json\b/.test(a.headers['content-type'] ?? '')) return `a ${a.status} with content-type ${JSON.stringify(a.headers['content-type'])}`;
    let json: any;
    try { json = JSON.parse(text); } catch { return `a ${a.status} whose body is not JSON`; }
    const e = json?.error;
    const envelope = json !== null && typeof json === 'object' && Object.keys(json).join() === 'error' && e !== null && typeof e === 'object'
      && Object.keys(e).sort().join() === 'code,message,param,type'
      && typeof e.message === 'string' && e.message.length > 0 && typeof e.type === 'string'
      && (e.param === null || typeof e.param === 'string') && (e.code === null || typeof e.code === 'string');
    if (!envelope) return `a ${a.status} outside the envelope`;
    if (r.param !== undefined && a.status === 400 && !(typeof e.param === 'string' && e.param.startsWith(r.param))) return `param ${JSON.stringify(e.param)}, expected one naming '${r.param}'`;
    return null;
  }
  if ((a.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    for (const frame of text.split('\n\n').filter((f) => f.trim())) {
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      try { JSON.parse(data!.slice(6)); } catch { return `an SSE frame without JSON data: ${JSON.stringify(frame.slice(0, 120))}`; }
    }
    return null;
  }
  try { JSON.parse(text); } catch { return `a ${a.status} whose body is not JSON`; }
  return null;
}

/** Sends a batch in parallel; throws (for fast-check) when an answer breaks the contract, with each broken exchange. */
async function exchange(batch: FuzzRequest[]): Promise<void> {
  const results = await Promise.all(batch.map(async (r) => {
    try {
      const a = await send(r);
      count(r.route, String(a.status));
      const why = violation(r, a);
      return why ? `${why}\n  request: ${describeRequest(r)}\n  answer: ${a.status} ${a.body.toString('utf8').slice(0, 300)}` : null;
    } catch (err) {
      count(r.route, 'no answer');
      return `${(err as Error).message}\n  request: ${describeRequest(r)}`;
    }
  }));
  for (const up of sys.upstreams) up.requests.length = 0; // the fake upstreams keep every body
  const failures = results.filter((x): x is string => x !== null);
  if (failures.length) throw new Error(failures.join('\n'));
}

/** Requests, CPU time (client, server, upstreams and dynalite all live in this process) and wall time per property. */
const costs: Record<string, { requests: number; cpu_s: number; wall_s: number }> = {};

/** `runs` batches of `parallel` requests from `arb`; bounded by runs and by time. */
async function fuzz(name: string, arb: fc.Arbitrary<FuzzRequest>, runs: number, parallel: number): Promise<void> {
  const [cpu, wall, sent] = [process.cpuUsage(), performance.now(), total];
  running = name;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(arb, { minLength: parallel, maxLength: parallel }), exchange),
      { numRuns: runs, seed, plugins: [fc.interruptAfterTimeLimit(PROPERTY_TIME_LIMIT_MS)] },
    );
  } finally {
    const used = process.cpuUsage(cpu);
    costs[name] = { requests: total - sent, cpu_s: +((used.user + used.system) / 1e6).toFixed(2), wall_s: +((performance.now() - wall) / 1e3).toFixed(2) };
  }
  await expectServing();
}

async function expectServing(): Promise<void> {
  const health = await fetch(`${sys.gw.url}/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  expect(health.status).toBe(200);
  await health.body?.cancel();
}

// ── the system, with stored responses to aim at ─────────────────────────────

const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
async function create(body: unknown): Promise<any> {
  const res = await fetch(`${sys.base}/responses`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  const json = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

// The server runs in this process: an exception nothing caught would kill it in production.
const escaped: string[] = [];
let running = 'setup';
const onUncaught = (err: unknown) => { escaped.push(`during ${running}: ${String((err as Error)?.stack ?? err)}`); };

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  sys = await startSystem({
    upstreams: [{ flavor: 'vllm', models: [CHAT_MODEL] }, { flavor: 'openai', models: [NATIVE_MODEL] }],
    extraConfig: `router_api_keys:\n  fuzz: ${KEY}`,
  });
  port = sys.gw.port;
  const five = await create({ model: CHAT_MODEL, input: Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `m${i}` })) });
  const chained = await create({ model: CHAT_MODEL, input: 'next', previous_response_id: five.id, instructions: 'be brief' });
  const native = await create({ model: NATIVE_MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] });
  const tools = await create({ model: CHAT_MODEL, input: 'add', tools: [{ type: 'function', name: 'add' }], metadata: { k: 'v' } });
  const deletable = await Promise.all(Array.from({ length: 10 }, () => create({ model: CHAT_MODEL, input: 'to delete' })));
  const ids = [five.id, chained.id, native.id, tools.id];
  const items = await fetch(`${sys.base}/responses/${five.id}/input_items?limit=100`, { headers: auth }).then((r) => r.json());
  seeds = { ids, deletable: deletable.map((d) => d.id), itemIds: items.data.map((i: { id: string }) => i.id) };
});

afterAll(async () => {
  const statuses = [...new Set([...counts.values()].flatMap((row) => [...row.keys()]))].sort();
  const table: Record<string, Record<string, number>> = {};
  for (const [route, row] of [...counts.entries()].sort()) {
    table[route] = Object.fromEntries(statuses.map((s) => [s, row.get(s) ?? 0]));
    table[route]!.total = [...row.values()].reduce((a, b) => a + b, 0);
  }
  table.total = Object.fromEntries(statuses.map((s) => [s, [...counts.values()].reduce((n, row) => n + (row.get(s) ?? 0), 0)]));
  table.total.total = total;
  console.log(`fuzz: ${total} requests by route and status`);
  console.table(table);
  console.log('fuzz: cost per property');
  console.table(costs);
  await sys?.close();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
});

// ── the properties ──────────────────────────────────────────────────────────

describe('bad input never gets a 5xx, always an answer, 4xx always in the envelope', () => {
  it('POST /v1/responses: real bodies with fields replaced by anything or removed', () => fuzz('mutatedBodies', mutatedBodies(seeds), 50, 8), 60_000);

  it('POST /v1/responses: wrong types and missing required fields get a 400 naming the field', () => fuzz('wrongTypeBodies', wrongTypeBodies(seeds), 100, 8), 60_000);

  it('POST /v1/responses: unknown item types and content parts, broken items', () => fuzz('inputItemBodies', inputItemBodies(seeds), 50, 8), 60_000);

  it('POST /v1/responses: invalid JSON and JSON that is not an object', () => fuzz('invalidJsonBodies', invalidJsonBodies(seeds), 100, 8), 60_000);

  it('POST /v1/responses: deep nesting, up to 100,000 levels', () => fuzz('deepBodies', deepBodies(), 40, 8), 60_000);

  it('POST /v1/responses: bodies that are not UTF-8 are refused', () => fuzz('invalidUtf8Bodies', invalidUtf8Bodies(seeds), 40, 8), 60_000);

  it('POST /v1/responses: 1 MB strings in every kind of field, long lists', () => fuzz('hugeStringBodies', hugeStringBodies(), 6, 2), 60_000);

  it('bodies of the limit are read, one byte more is a 413', () => fuzz('limitBodies', limitBodies(seeds), 3, 2), 60_000);

  it('ids with path characters, unicode and great length on every id route and method', () => fuzz('idRequests', idRequests(seeds), 150, 8), 60_000);

  it('ids with malformed percent-encoding on every id route', () => fuzz('malformedPercentIds', malformedPercentIds(seeds), 40, 8), 60_000);

  it('query parameters with wrong values (stream, starting_after, limit, order, after, before)', () => fuzz('queryRequests', queryRequests(seeds), 75, 8), 60_000);

  it('wrong methods, unknown paths, odd headers and bad keys', () => fuzz('methodPathRequests', methodPathRequests(seeds), 100, 8), 60_000);

  it('messages that are not valid HTTP', () => fuzz('malformedHttp', malformedHttp(), 25, 8), 60_000);
});

describe('afterwards', () => {
  it('the server still serves: health, a create, a retrieve', async () => {
    await expectServing();
    const created = await create({ model: CHAT_MODEL, input: 'still there?' });
    expect(created.status).toBe('completed');
    expect(created.output_text).toBeTypeOf('string');
    const got = await fetch(`${sys.base}/responses/${created.id}`, { headers: auth });
    expect(got.status).toBe(200);
    expect((await got.json()).id).toBe(created.id);
  });

  it('no exception or rejection escaped the server', () => {
    expect(escaped.slice(0, 3), `${escaped.length} escaped`).toEqual([]);
  });

  it(`sent at least ${MIN_REQUESTS} requests`, () => {
    expect(total).toBeGreaterThanOrEqual(MIN_REQUESTS);
  });
});
