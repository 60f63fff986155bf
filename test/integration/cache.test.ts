// The response cache over HTTP (issue 5, the spec's TestCacheParity and beyond): the real
// handler, dynalite, and a fake Ollama upstream whose request log shows whether a backend was
// reached. Each system runs alone: the handler serves the services set last.
import { randomBytes } from 'node:crypto';
import { GetCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey } from '../../shared/cache/key.ts';
import { DynamoCacheStore } from '../../shared/adapters/dynamo/cache.ts';
import { countCalls } from '../helpers/count-calls.ts';
import { logLines, metricLines } from '../helpers/log-lines.ts';
import { newResponseObject } from '../../shared/protocol/response.ts';
import { getJson, postJson, sseEvents, startSystem, type System } from '../helpers/harness.ts';
import { streamWithSdk } from '../helpers/sdk-validate.ts';

const model = 'test-model';
const KEYS = 'router_api_keys:\n  alice: key-alice\n  bob: key-bob';
const alice = { authorization: 'Bearer key-alice' };
const bob = { authorization: 'Bearer key-bob' };
const cache = { nomyo: { cache: true } };

let sys: System;
let up: System['upstreams'][number];
let n = 0;
/** A prompt no other test sends, so entries never leak between tests. */
const fresh = (label = 'q') => `${label} #${++n} ${randomBytes(4).toString('hex')}`;
const chatCalls = () => up.requests.filter((r) => r.path === '/v1/chat/completions').length;
const lastChat = () => up.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!;
const settle = () => new Promise((r) => setTimeout(r, 30));

async function start(extraConfig: string, models = ['test-model:latest', 'other-model:latest']) {
  sys = await startSystem({ upstreams: [{ flavor: 'ollama', models }], extraConfig });
  up = sys.upstreams[0]!;
}

const create = (body: object, headers: Record<string, string> = alice) => postJson(`${sys.base}/responses`, { model, ...body }, headers);

async function createStream(body: object, headers: Record<string, string> = alice) {
  const res = await fetch(`${sys.base}/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model, ...body, stream: true }),
  });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, events: sseEvents(text) };
}

/** Sends `body` and tells whether the answer came from the cache (no chat request upstream). */
async function wasHit(body: object, headers: Record<string, string> = alice): Promise<boolean> {
  const before = chatCalls();
  const res = await create(body, headers);
  expect(res.status).toBe(200);
  return chatCalls() === before;
}

describe('per request (nomyo.cache), two tenants', () => {
  beforeAll(() => start(KEYS));
  afterAll(() => sys.close());

  it('test_cache_hit_served_as_response', async () => {
    const input = fresh('ping');
    up.script({ text: 'from-cache' });
    const first = await create({ input, store: false, ...cache });
    expect(first.json.output_text).toBe('from-cache');
    await settle();

    const before = up.requests.length;
    const res = await create({ input, store: false, ...cache });
    expect(res.status).toBe(200);
    expect(res.json.output_text).toBe('from-cache');
    expect(up.requests.length).toBe(before); // no chat call, and no endpoint choice either
    expect(res.json.id).not.toBe(first.json.id);
    expect(res.json.status).toBe('completed');
    expect(res.json.usage).toEqual(first.json.usage);

    // The entry is keyed under the spec's route name, `openai_responses`.
    const key = cacheKey({
      route: 'openai_responses', principal: 'alice', request: { model, input, store: false, ...cache },
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }],
    });
    const doc = DynamoDBDocumentClient.from(sys.gw.dynamo.client);
    const { Item } = await doc.send(new GetCommand({ TableName: sys.gw.dynamo.tables.cache, Key: { pk: key } }));
    expect(Item).toBeDefined();
  });

  it('keeps its entries and counters in the cache table of their own, none in the responses table', async () => {
    const input = fresh('where');
    up.script({ text: 'kept apart' });
    await create({ input, store: false, ...cache });
    await settle();
    expect(await wasHit({ input, store: false, ...cache })).toBe(true);
    await getJson(`${sys.base}/cache/stats`, alice); // flushes the counters
    const doc = DynamoDBDocumentClient.from(sys.gw.dynamo.client);
    const scan = async (TableName: string) => (await doc.send(new ScanCommand({ TableName }))).Items ?? [];
    const inCache = await scan(sys.gw.dynamo.tables.cache);
    expect(inCache.some((i) => i.pk === 'stats' && i.misses >= 1 && i.hits >= 1)).toBe(true);
    expect(inCache.filter((i) => i.pk !== 'stats').length).toBeGreaterThanOrEqual(1);
    for (const i of inCache) expect(Object.keys(i).sort()).toEqual(/^stats(#|$)/.test(i.pk) ? ['hits', 'misses', 'pk'] : ['blob', 'expires_at', 'expires_ms', 'history', 'pk']);
    // store: false stored no response either: nothing of this request is in the responses table.
    const inResponses = await scan(sys.gw.dynamo.tables.responses);
    expect(inResponses.filter((i) => String(i.pk).startsWith('cache') || i.pk === 'stats' || inCache.some((c) => c.pk === i.pk))).toEqual([]);
  });

  it('test_cache_hit_served_as_sse', async () => {
    const input = fresh('ping');
    up.script({ text: 'from-cache' });
    await create({ input, store: false, ...cache });
    await settle();

    const before = up.requests.length;
    const res = await createStream({ input, store: false, ...cache });
    expect(res.contentType.startsWith('text/event-stream')).toBe(true);
    const deltas = res.events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('');
    expect(deltas).toBe('from-cache');
    expect(up.requests.length).toBe(before);
    const { response, events } = await streamWithSdk(res.text);
    expect(response.output_text).toBe('from-cache');
    expect(events[0]!.type).toBe('response.created');
    expect(events.at(-1)!.type).toBe('response.completed');
    expect(res.events.map((e) => e.data.sequence_number)).toEqual(res.events.map((_, i) => i));
  });

  it('serves a function call from the cache as JSON and as SSE, with new ids', async () => {
    const input = fresh('weather');
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    up.script({ toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const first = await create({ input, tools, ...cache });
    const fc = first.json.output.find((i: any) => i.type === 'function_call');
    expect(fc).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'call_w1' });

    const calls = chatCalls();
    const json = await create({ input, tools, ...cache });
    const hitFc = json.json.output.find((i: any) => i.type === 'function_call');
    expect(hitFc).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'call_w1', status: 'completed' });
    expect(hitFc.id).toMatch(/^fc_[0-9a-f]{24,}$/);
    expect(hitFc.id).not.toBe(fc.id);

    const sse = await createStream({ input, tools, ...cache });
    const types = sse.events.map((e) => e.event);
    expect(types).toContain('response.function_call_arguments.delta');
    expect(types).toContain('response.function_call_arguments.done');
    const { response } = await streamWithSdk(sse.text);
    const sdkFc = response.output.find((i) => i.type === 'function_call') as any;
    expect(sdkFc).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'call_w1' });
    expect([fc.id, hitFc.id]).not.toContain(sdkFc.id);
    expect(chatCalls()).toBe(calls);
  });

  it('a streamed answer is cached once complete, and served to JSON and SSE alike', async () => {
    const input = fresh('streamed');
    up.script({ deltas: ['str', 'eamed ', 'answer'] });
    const first = await createStream({ input, ...cache });
    expect(first.events.at(-1)!.event).toBe('response.completed');
    expect(await wasHit({ input, ...cache })).toBe(true);
    const again = await createStream({ input, ...cache });
    expect(again.events.find((e) => e.event === 'response.completed')!.data.response.output_text).toBe('streamed answer');
  });

  describe('key sensitivity: a change of any field that decides the answer is a miss', () => {
    const tools = [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }];
    let baseBody: Record<string, unknown>;
    beforeAll(async () => {
      baseBody = {
        input: fresh('sensitive'), instructions: 'be brief', tools, tool_choice: 'auto', text: { format: { type: 'text' } },
        temperature: 0.5, top_p: 0.9, reasoning: { effort: 'low' }, ...cache,
      };
      await create(baseBody);
      expect(await wasHit(baseBody)).toBe(true);
    });

    it.each<[string, Record<string, unknown>]>([
      ['model', { model: 'other-model' }],
      ['instructions', { instructions: 'be verbose' }],
      ['input', { input: 'something else entirely' }],
      ['tools', { tools: [{ ...tools[0], name: 'search' }] }],
      ['tool_choice', { tool_choice: 'none' }],
      ['text format', { text: { format: { type: 'json_object' } } }],
      ['temperature', { temperature: 0.7 }],
      ['top_p', { top_p: 0.5 }],
      ['reasoning', { reasoning: { effort: 'high' } }],
      ['max_output_tokens', { max_output_tokens: 64 }],
    ])('%s', async (_name, change) => {
      expect(await wasHit({ ...baseBody, ...change })).toBe(false);
      expect(await wasHit({ ...baseBody, ...change })).toBe(true); // ...and then has its own entry
    });

    it('fields that do not decide the answer still hit', async () => {
      expect(await wasHit({ ...baseBody, metadata: { run: '2' }, store: false, user: 'someone' })).toBe(true);
    });

    it('history brought by previous_response_id', async () => {
      up.script({ text: 'first turn A' }, { text: 'first turn B' });
      const a = await create({ input: fresh('turn one') });
      const b = await create({ input: fresh('turn one') });
      const next = { input: fresh('turn two'), ...cache };
      expect(await wasHit({ ...next, previous_response_id: a.json.id })).toBe(false);
      expect(await wasHit({ ...next, previous_response_id: a.json.id })).toBe(true);
      expect(await wasHit({ ...next, previous_response_id: b.json.id })).toBe(false); // other history
      expect(await wasHit(next)).toBe(false); // no history
    });

    it('the history read now must be the one the answer was made from: a conversation that grew, an ancestor deleted', async () => {
      const conv = (await postJson(`${sys.base}/conversations`, {}, alice)).json.id;
      const turn = { input: fresh('in a conversation'), conversation: conv, ...cache };
      expect(await wasHit(turn)).toBe(false); // ...and the turn joins the conversation: its history grew
      expect(await wasHit(turn)).toBe(false);
      up.script({ text: 'root' }, { text: 'child' });
      const root = await create({ input: fresh('root') });
      const child = await create({ input: fresh('child'), previous_response_id: root.json.id });
      const next = { input: fresh('grandchild'), previous_response_id: child.json.id, ...cache };
      expect(await wasHit(next)).toBe(false);
      expect(await wasHit(next)).toBe(true);
      expect((await getJson(`${sys.base}/responses/${root.json.id}`, { ...alice }, 'DELETE')).status).toBe(200);
      expect(await wasHit(next)).toBe(false); // same key, shorter history
    });
  });

  it('tenants never share an entry', async () => {
    const input = fresh('tenant');
    up.script({ text: 'alice only' }, { text: 'bob own' });
    await create({ input, ...cache }, alice);
    expect(await wasHit({ input, ...cache }, bob)).toBe(false);
    const bobs = await create({ input, ...cache }, bob);
    expect(bobs.json.output_text).toBe('bob own');
    const alices = await create({ input, ...cache }, alice);
    expect(alices.json.output_text).toBe('alice only');
  });

  it('a cached answer is stored like any other and can be chained from', async () => {
    const input = fresh('chain');
    up.script({ text: 'the answer is 42' });
    await create({ input, ...cache });
    const calls = chatCalls();
    const hit = await create({ input, ...cache, metadata: { from: 'cache' } });
    expect(chatCalls()).toBe(calls);
    const stored = await getJson(`${sys.base}/responses/${hit.json.id}`, alice);
    expect(stored.status).toBe(200);
    expect(stored.json).toEqual(hit.json);
    expect(stored.json.metadata).toEqual({ from: 'cache' });
    // Another tenant cannot see it.
    expect((await getJson(`${sys.base}/responses/${hit.json.id}`, bob)).status).toBe(404);

    up.script({ text: 'follow-up' });
    const next = await create({ input: 'and then?', previous_response_id: hit.json.id });
    expect(next.status).toBe(200);
    expect(next.json.output_text).toBe('follow-up');
    const messages = lastChat().body.messages as Array<{ role: string; content: unknown }>;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(messages[1]!.content)).toContain('the answer is 42');

    // A streamed hit is stored too.
    const sse = await createStream({ input, ...cache });
    const id = sse.events[0]!.data.response.id;
    expect((await getJson(`${sys.base}/responses/${id}`, alice)).json.output_text).toBe('the answer is 42');
  });

  it('failed and incomplete answers are never cached', async () => {
    // An upstream 4xx (not retried): an error to the client, nothing cached.
    const failing = fresh('fails');
    up.script({ status: 400, errorMessage: 'bad prompt' });
    expect((await create({ input: failing, ...cache })).status).toBe(400);
    expect(await wasHit({ input: failing, ...cache })).toBe(false);

    // Cut short by max tokens: incomplete.
    const cut = fresh('incomplete');
    up.script({ text: 'partial', finishReason: 'length' });
    expect((await create({ input: cut, ...cache })).json.status).toBe('incomplete');
    expect(await wasHit({ input: cut, ...cache })).toBe(false);

    // A stream that fails after its first byte ends in response.failed.
    const broken = fresh('broken');
    up.script({ deltas: ['a', 'b', 'c', 'd'], errorAfterChunks: 2 });
    const res = await createStream({ input: broken, ...cache });
    expect(res.events.at(-1)!.event).toBe('response.failed');
    expect(await wasHit({ input: broken, ...cache })).toBe(false);
  });

  it('an answer too large to cache is served, logged and not cached', async () => {
    const input = fresh('huge');
    const text = randomBytes(450_000).toString('base64'); // ~600 KB of JSON, ~455 KB gzipped
    up.script({ text });
    let res!: Awaited<ReturnType<typeof create>>;
    const lines = (await logLines(async () => { res = await create({ input, store: false, ...cache }); }))
      .filter((l) => l.message === 'cache entry too large, not cached');
    expect(res.status).toBe(200);
    expect(res.json.output_text).toBe(text);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'WARN', id: res.json.id });
    up.script({ text: 'small now' });
    expect(await wasHit({ input, store: false, ...cache })).toBe(false);
  });

  it('nomyo that is not an object is a 400, never a 500', async () => {
    for (const nomyo of ['cache', ['cache'], 1, null, { cache: 'yes' }]) {
      const res = await create({ input: 'x', nomyo });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param: expect.stringMatching(/^nomyo/) });
    }
  });

  it('without nomyo.cache (and cache_enabled off) nothing is cached', async () => {
    const input = fresh('uncached');
    await create({ input });
    expect(await wasHit({ input })).toBe(false);
    expect(await wasHit({ input, nomyo: {} })).toBe(false);
  });

  it('GET /v1/cache/stats counts each caller\'s own hits and misses, behind auth', async () => {
    expect((await getJson(`${sys.base}/cache/stats`)).status).toBe(401);
    const start = (await getJson(`${sys.base}/cache/stats`, alice)).json;
    const bobsBefore = (await getJson(`${sys.base}/cache/stats`, bob)).json;
    expect(start).toMatchObject({ object: 'cache.stats' });
    expect(Object.keys(start).sort()).toEqual(['hit_rate', 'hits', 'misses', 'object']);

    const input = fresh('stats');
    const emf = await metricLines(async () => {
      await create({ input, ...cache }); // miss
      await create({ input, ...cache }); // hit
      await create({ input, ...cache }); // hit
    });
    const after = (await getJson(`${sys.base}/cache/stats`, alice)).json;
    expect(after.hits - start.hits).toBe(2);
    expect(after.misses - start.misses).toBe(1);
    expect(after.hit_rate).toBeCloseTo(after.hits / (after.hits + after.misses), 10);
    // Another tenant learns nothing of alice's traffic: its own counts did not move.
    expect((await getJson(`${sys.base}/cache/stats`, bob)).json).toEqual(bobsBefore);
    expect((await postJson(`${sys.base}/cache/stats`, {}, alice)).status).toBe(405);

    // Each request's metrics (EMF lines, Powertools) counted the lookups: 2 hits, 1 miss.
    const total = (name: string) => emf.flatMap((l) => [l[name] ?? []].flat() as number[]).reduce((a, b) => a + b, 0);
    expect([total('CacheHits'), total('CacheMisses')]).toEqual([2, 1]);
  });
});

describe('cache_shared: true', () => {
  beforeAll(() => start(`${KEYS}\ncache_shared: true`));
  afterAll(() => sys.close());

  it('one tenant\'s answer is served to another', async () => {
    const input = fresh('shared');
    up.script({ text: 'for everyone' });
    await create({ input, ...cache }, alice);
    const before = chatCalls();
    const res = await create({ input, ...cache }, bob);
    expect(chatCalls()).toBe(before);
    expect(res.json.output_text).toBe('for everyone');
  });
});

describe('cache_enabled: true', () => {
  beforeAll(() => start('cache_enabled: true'));
  afterAll(() => sys.close());

  it('caches every request without the extension, and nomyo.cache: false opts out', async () => {
    const input = fresh('global');
    await create({ input });
    expect(await wasHit({ input })).toBe(true);
    expect(await wasHit({ input, stream: false })).toBe(true);
    expect(await wasHit({ input, nomyo: { cache: false } })).toBe(false);
  });

  it('background responses are not served from the cache', async () => {
    const input = fresh('background');
    await create({ input });
    const calls = chatCalls();
    const res = await create({ input, background: true });
    expect(res.status).toBe(200);
    const deadline = Date.now() + 20_000; // the first background job also starts the local workflow runner
    let status = res.json.status;
    while (status !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await getJson(`${sys.base}/responses/${res.json.id}`)).json.status;
    }
    expect(status).toBe('completed');
    expect(chatCalls()).toBe(calls + 1);
  });
});

describe('cache_ttl', () => {
  afterEach(() => sys.close());

  it('an entry older than cache_ttl is a miss, though DynamoDB (dynalite) has not deleted it', async () => {
    await start('cache_ttl: 1');
    const input = fresh('ttl');
    await create({ input, ...cache });
    expect(await wasHit({ input, ...cache })).toBe(true);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await wasHit({ input, ...cache })).toBe(false);
    expect(await wasHit({ input, ...cache })).toBe(true); // cached again
  });

  it('cache_ttl: null never expires', async () => {
    await start('cache_ttl: null');
    const input = fresh('forever');
    await create({ input, ...cache });
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await wasHit({ input, ...cache })).toBe(true);
  });
});

describe('DynamoCacheStore (on dynalite)', () => {
  beforeAll(() => start(''));
  afterAll(() => sys.close());

  const response = newResponseObject({ id: 'resp_x', model: 'm', createdAt: 1, output: [] });
  const store = (opts: ConstructorParameters<typeof DynamoCacheStore>[2] = {}) =>
    new DynamoCacheStore(DynamoDBDocumentClient.from(sys.gw.dynamo.client), sys.gw.dynamo.tables.cache, opts);
  /** The history fingerprint entries are stored with, and a lookup's (as a promise: the history may still be being read). */
  const H = 'history-fingerprint';
  const h = Promise.resolve(H);

  it('expired entries are misses, by the exact expiry', async () => {
    const now = 1_000_000;
    const s = store({ clock: { nowMs: () => now } });
    await s.put('k-exp', response, 10, H);
    expect(await s.get('k-exp', now + 9_999, h)).toEqual(response);
    expect(await s.get('k-exp', now + 10_000, h)).toBeNull();
    await s.put('k-never', response, null, H);
    expect(await s.get('k-never', Number.MAX_SAFE_INTEGER, h)).toEqual(response);
  });

  it('an entry made from another history is a miss', async () => {
    const s = store();
    await s.put('k-hist', response, null, H);
    expect(await s.get('k-hist', Date.now(), h)).toEqual(response);
    expect(await s.get('k-hist', Date.now(), Promise.resolve('another history'))).toBeNull();
  });

  it('skips an entry above maxBytes', async () => {
    const s = store({ maxBytes: 10 });
    const lines = await logLines(() => s.put('k-big', response, null, H));
    expect(lines.filter((l) => l.level === 'WARN' && l.message === 'cache entry too large, not cached')).toHaveLength(1);
    expect(await s.get('k-big', Date.now(), h)).toBeNull();
  });

  it('counters of several processes add up, written at most once per flush interval', async () => {
    const client = sys.gw.dynamo.client;
    const calls = countCalls(client);
    let now = 0;
    const a = store({ clock: { nowMs: () => now }, flushMs: 5_000 });
    const b = store({ clock: { nowMs: () => now }, flushMs: 5_000 });
    const base = await a.stats();
    calls.reset();
    for (let i = 0; i < 20; i++) await a.get('k-none', now, h);
    await b.get('k-never', now, h);
    expect(calls.byCommand.UpdateItem ?? 0).toBe(0); // nothing written yet
    now = 5_000;
    await a.get('k-none', now, h); // the interval passed: one flush of a's 21 misses
    await a.flush();
    expect(calls.byCommand.UpdateItem).toBe(1);
    expect(a.local).toEqual({ hits: 0, misses: 21 });
    const total = await b.stats(); // b flushes its own hit, then reads the shared item
    expect(total.misses - base.misses).toBe(21);
    expect(total.hits - base.hits).toBe(1);
  });
});
