// Load through the local server (the real handler over node:http, dynalite in memory, a fake
// vLLM upstream as a real HTTP server), everything on 127.0.0.1 in this one process:
//
//   - 200 streaming requests at once, each with its own content (the upstream's answer is a
//     function of the request's input): every stream complete and clean (gap-free sequence
//     numbers, one terminal event, last), its text exactly what the upstream sent for it, and
//     every stored response retrievable with the output the stream ended with. Nothing lost.
//   - 1,000 stored (non-stream) responses created at once, all in flight together: all
//     retrievable, none duplicated (1,000 distinct ids, each returning its own content, 1,000
//     records in the table).
//
// Counts and timings are printed. The client is node:http with a fresh connection per request:
// fetch's keep-alive pool would reuse sockets that sat idle through a long phase, and on a
// CPU-starved machine the server can close one just as it is reused (ECONNRESET, a property
// of HTTP/1.1 keep-alive rather than of the gateway).
//
// Cost: about 50 s of CPU in this one process (client, gateway, dynalite and upstream share
// one event loop), most of it the gateway's DynamoDB round trips through the SDK and dynalite.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../functions/local/gateway.ts';
import { startFakeUpstream, type FakeUpstream, type RecordedRequest, type Reply } from '../helpers/fake-upstream.ts';
import { configYaml, countStored, expectCleanStream } from './system.ts';

const STREAMS = 200;
const STORED = 1_000;
const MODEL = 'load-model';

let gw: Gateway;
let base: string;
let up: FakeUpstream;

/** The answer for an input: distinct per request, multi-byte characters included (deltas split by code point). */
function answerFor(input: string): string {
  const n = Number(/(\d+)$/.exec(input)?.[1] ?? -1);
  const words = ['alpha', 'beta', 'gamma', 'délta', 'épsilon', '字符', 'zeta', '🙂', 'eta', 'theta'];
  const body = Array.from({ length: 12 + (n % 9) }, (_, k) => words[(n * 7 + k * 3) % words.length]).join(' ');
  return `reply to ${input}: ${body} (#${n})`;
}

const inputOf = (req: RecordedRequest): string => {
  const last = (req.body?.messages ?? []).at(-1);
  return typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content);
};

/** The most requests the upstream had open at one moment. */
function peakConcurrency(requests: RecordedRequest[]): number {
  const marks = requests.flatMap((r) => [[r.receivedAt, 1], [r.closedAt ?? Number.MAX_SAFE_INTEGER, -1]] as const);
  marks.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of marks) peak = Math.max(peak, (open += d));
  return peak;
}

interface Answer { status: number; contentType: string; text: string; json: any }

/** One request on its own connection; the whole answer as text (and JSON when it is JSON). */
function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`${base}${path}`, {
      method, agent: false,
      headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  }));
  return out;
}

beforeAll(async () => {
  up = await startFakeUpstream({ flavor: 'vllm', models: [MODEL] });
  up.fallback = (req: RecordedRequest): Reply => ({ text: answerFor(inputOf(req)), chunkSize: 5, chunkDelayMs: req.body?.stream ? 40 : 0 });
  gw = await startGateway({
    configYaml: configYaml([`"${up.url}"`], {
      // The fake answers at once; a short time-out would only fire when this one process (client,
      // gateway, dynalite and upstream on one event loop) is starved of CPU, and then be retried.
      upstream_timeout_ms: 120_000,
      model_list_ttl_ms: 600_000,
      max_concurrent_connections: STORED, // no request waits for a slot: the load is what we test
      slot_wait_ms: 30_000,
    }),
  });
  base = `${gw.url}/v1`;
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
}, 60_000);

describe('load', () => {
  it(`${STREAMS} concurrent streaming requests: all complete, in order, exact content, stored and retrievable`, async () => {
    const storedBefore = await countStored(gw.dynamo);
    const upBefore = up.requests.length;
    const inputs = Array.from({ length: STREAMS }, (_, i) => `stream-${i}`);
    const t0 = Date.now();
    const answers = await Promise.all(inputs.map(async (input) => ({ input, ...(await call('POST', '/responses', { model: MODEL, input, stream: true })) })));
    const streamMs = Date.now() - t0;

    let events = 0;
    let deltas = 0;
    let bytes = 0;
    const ids = new Set<string>();
    const finals = new Map<string, { id: string; response: any }>();
    for (const a of answers) {
      expect(a.status, a.text.slice(0, 300)).toBe(200);
      expect(a.contentType).toMatch(/^text\/event-stream/);
      const evs = expectCleanStream(a.text);
      const last = evs.at(-1)!;
      expect(last.data.type, `${a.input}: ${JSON.stringify(last.data).slice(0, 300)}`).toBe('response.completed');
      const expected = answerFor(a.input);
      const textDeltas = evs.filter((e) => e.data.type === 'response.output_text.delta');
      expect(textDeltas.map((e) => e.data.delta).join('')).toBe(expected);
      const response = last.data.response;
      expect(response.output_text).toBe(expected);
      expect(response.output).toHaveLength(1);
      expect(response.output[0].content[0].text).toBe(expected);
      for (const d of textDeltas) expect(d.data.item_id).toBe(response.output[0].id);
      expect(evs[0]!.data.response.id).toBe(response.id);
      ids.add(response.id);
      finals.set(a.input, { id: response.id, response });
      events += evs.length;
      deltas += textDeltas.length;
      bytes += a.text.length;
    }
    expect(ids.size).toBe(STREAMS);

    // The upstream saw every request (more than once only when the router retried one before
    // its first byte, which the log says); none that was not retried was aborted.
    const seen = up.requests.slice(upBefore).filter((r) => r.path === '/v1/chat/completions');
    expect(new Set(seen.map(inputOf))).toEqual(new Set(inputs));
    const tries = new Map<string, number>();
    for (const r of seen) tries.set(inputOf(r), (tries.get(inputOf(r)) ?? 0) + 1);
    expect(seen.filter((r) => r.aborted && tries.get(inputOf(r)) === 1).map(inputOf)).toEqual([]);
    const peak = peakConcurrency(seen);

    // Every stored response, read back at once: completed, with the streamed output and usage.
    const t1 = Date.now();
    const stored = await Promise.all(inputs.map(async (input) => ({ input, got: await call('GET', `/responses/${finals.get(input)!.id}`) })));
    const retrieveMs = Date.now() - t1;
    for (const { input, got } of stored) {
      const streamed = finals.get(input)!.response;
      expect(got.status).toBe(200);
      expect(got.json.id).toBe(streamed.id);
      expect(got.json.status).toBe('completed');
      expect(got.json.output).toEqual(streamed.output);
      expect(got.json.output_text).toBe(answerFor(input));
      expect(got.json.usage).toEqual(streamed.usage);
    }
    expect(await countStored(gw.dynamo)).toBe(storedBefore + STREAMS);

    console.log(JSON.stringify({
      test: 'concurrent streams', streams: STREAMS, completed: answers.length, events, textDeltas: deltas, sseBytes: bytes,
      upstreamRequests: seen.length, upstreamRetries: seen.length - STREAMS, upstreamPeakConcurrency: peak, stored: STREAMS, retrieved: stored.length,
      streamWallMs: streamMs, retrieveWallMs: retrieveMs,
    }));
  }, 300_000);

  it(`${STORED} stored responses created concurrently: all retrievable, none duplicated`, async () => {
    const storedBefore = await countStored(gw.dynamo);
    const upBefore = up.requests.length;
    const inputs = Array.from({ length: STORED }, (_, i) => `stored-${i}`);
    const t0 = Date.now();
    // All 1,000 in flight at once.
    const created = await Promise.all(inputs.map((input) => call('POST', '/responses', { model: MODEL, input })));
    const createMs = Date.now() - t0;
    const failures = created.filter((c) => c.status !== 200);
    expect(failures.map((f) => `${f.status} ${f.text.slice(0, 200)}`)).toEqual([]);
    const ids = created.map((c) => c.json.id as string);
    expect(new Set(ids).size).toBe(STORED);
    created.forEach((c, i) => {
      expect(c.json.status).toBe('completed');
      expect(c.json.output_text).toBe(answerFor(inputs[i]!));
    });
    const seen = up.requests.slice(upBefore).filter((r) => r.path === '/v1/chat/completions');
    expect(new Set(seen.map(inputOf))).toEqual(new Set(inputs));
    const peak = peakConcurrency(seen);

    // Read back, 100 at a time: each id returns its own content; the table holds exactly 1,000 more.
    const t1 = Date.now();
    const got = await pool(ids, 100, (id) => call('GET', `/responses/${id}`));
    const retrieveMs = Date.now() - t1;
    got.forEach((g, i) => {
      expect(g.status).toBe(200);
      expect(g.json.id).toBe(ids[i]);
      expect(g.json.status).toBe('completed');
      expect(g.json.output_text).toBe(answerFor(inputs[i]!));
      expect(g.json.output).toEqual(created[i]!.json.output);
    });
    const storedNow = await countStored(gw.dynamo);
    expect(storedNow - storedBefore).toBe(STORED);
    // ...and each one's input is its own.
    const items = await pool(ids.filter((_, i) => i % 50 === 0), 20, async (id) => (await call('GET', `/responses/${id}/input_items`)).json);
    items.forEach((list: any, k) => expect(list.data[0].content[0].text).toBe(inputs[k * 50]));

    console.log(JSON.stringify({
      test: 'concurrent stored creates', created: created.length, ok: created.length - failures.length, distinctIds: new Set(ids).size,
      upstreamRequests: seen.length, upstreamRetries: seen.length - STORED, upstreamPeakConcurrency: peak, retrieved: got.length, recordsAdded: storedNow - storedBefore,
      createWallMs: createMs, retrieveWallMs: retrieveMs,
    }));
  }, 300_000);
});
