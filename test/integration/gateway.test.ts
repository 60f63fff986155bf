// The gateway over HTTP beyond the spec: storage, lists, errors, failures mid-stream, tenants.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, sseEvents, startSystem, type System } from '../helpers/harness.ts';

let sys: System;
let up: System['upstreams'][number];
const model = 'test-model';

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [{ flavor: 'vllm', models: ['test-model'] }],
    extraConfig: 'router_api_keys:\n  alice: key-alice\n  bob: key-bob',
  });
  up = sys.upstreams[0]!;
});
afterAll(() => sys.close());

const alice = { authorization: 'Bearer key-alice' };
const bob = { authorization: 'Bearer key-bob' };
const lastChat = () => up.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!;

async function streamCreate(body: unknown, headers = alice) {
  const res = await fetch(`${sys.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ ...(body as object), stream: true }) });
  return { status: res.status, events: sseEvents(await res.text()) };
}

describe('basics', () => {
  it('GET /health answers 200 JSON without auth', async () => {
    const res = await getJson(`${sys.gw.url}/health`);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('ok');
  });

  it('requests without a valid key get 401 in the envelope', async () => {
    const none = await postJson(`${sys.base}/responses`, { model, input: 'x' });
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe('invalid_api_key');
    const wrong = await postJson(`${sys.base}/responses`, { model, input: 'x' }, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
  });

  it('unknown routes and methods get OpenAI-style 404/405', async () => {
    expect((await getJson(`${sys.base}/nothing`, alice)).json.error.type).toBe('invalid_request_error');
    expect((await getJson(`${sys.base}/nothing`, alice)).status).toBe(404);
    expect((await getJson(`${sys.base}/responses`, alice)).status).toBe(405);
  });
});

describe('validation', () => {
  const cases: Array<[string, unknown, string | null]> = [
    ['missing model', { input: 'x' }, 'model'],
    ['missing input', { model }, 'input'],
    ['wrong type', { model, input: 'x', temperature: 'hot' }, 'temperature'],
    ['out of range', { model, input: 'x', temperature: 3 }, 'temperature'],
    ['bad item', { model, input: [{ content: 'no role or type' }] }, 'input[0].type'],
    ['nomyo not an object', { model, input: 'x', nomyo: 'cache' }, 'nomyo'],
    ['array body', [1, 2], null],
  ];
  it.each(cases)('%s -> 400 naming the parameter', async (_name, body, param) => {
    const res = await postJson(`${sys.base}/responses`, body, alice);
    expect(res.status).toBe(400);
    expect(res.json.error.type).toBe('invalid_request_error');
    expect(res.json.error.param).toBe(param);
  });

  it('a body that is not JSON -> 400 invalid_json', async () => {
    const res = await fetch(`${sys.base}/responses`, { method: 'POST', headers: { ...alice, 'content-type': 'application/json' }, body: '{"model": ' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('invalid_json');
  });

  it('a model no endpoint serves -> 404 naming the model, nothing sent upstream', async () => {
    const before = up.requests.length;
    const res = await postJson(`${sys.base}/responses`, { model: 'ghost-model', input: 'x' }, alice);
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({ param: 'model', code: 'model_not_found' });
    expect(res.json.error.message).toContain('ghost-model');
    expect(up.requests.slice(before).some((r) => r.path.includes('chat'))).toBe(false);
  });

  it('an unknown previous_response_id -> 404 with param previous_response_id', async () => {
    const res = await postJson(`${sys.base}/responses`, { model, input: 'x', previous_response_id: 'resp_abc123' }, alice);
    expect(res.status).toBe(404);
    expect(res.json.error.param).toBe('previous_response_id');
  });
});

describe('storage', () => {
  it('store: false is not retrievable; store defaults to true', async () => {
    up.script({ text: 'a' }, { text: 'b' });
    const off = await postJson(`${sys.base}/responses`, { model, input: 'x', store: false }, alice);
    expect(off.json.store).toBe(false);
    expect((await getJson(`${sys.base}/responses/${off.json.id}`, alice)).status).toBe(404);
    const on = await postJson(`${sys.base}/responses`, { model, input: 'x' }, alice);
    expect(on.json.store).toBe(true);
    expect((await getJson(`${sys.base}/responses/${on.json.id}`, alice)).status).toBe(200);
  });

  it('every Response field is present, nullable ones as null', async () => {
    up.script({ text: 'fields' });
    const res = await postJson(`${sys.base}/responses`, { model, input: 'x', instructions: 'be brief', metadata: { k: 'v' }, temperature: 0.2 }, alice);
    for (const key of ['id', 'object', 'created_at', 'status', 'error', 'incomplete_details', 'instructions', 'max_output_tokens', 'model', 'output', 'parallel_tool_calls', 'previous_response_id', 'reasoning', 'store', 'temperature', 'text', 'tool_choice', 'tools', 'top_p', 'truncation', 'usage', 'user', 'metadata', 'background']) {
      expect(res.json).toHaveProperty(key);
    }
    expect(res.json).toMatchObject({ instructions: 'be brief', metadata: { k: 'v' }, temperature: 0.2, error: null, incomplete_details: null, previous_response_id: null });
    expect(res.json.output[0].content[0]).toEqual({ type: 'output_text', text: 'fields', annotations: [], logprobs: [] });
    expect(lastChat().body.messages[0]).toEqual({ role: 'system', content: 'be brief' });
  });

  it('a 2 MB data-URL image is stored and read back intact', async () => {
    const url = `data:image/png;base64,${randomBytes(1_500_000).toString('base64')}`;
    up.script({ text: 'a picture' });
    const input = [{ role: 'user', content: [{ type: 'input_text', text: 'what is this?' }, { type: 'input_image', image_url: url, detail: 'high' }] }];
    const res = await postJson(`${sys.base}/responses`, { model, input }, alice);
    expect(res.status).toBe(200);
    expect(lastChat().body.messages[0].content[1]).toEqual({ type: 'image_url', image_url: { url, detail: 'high' } });
    const items = await getJson(`${sys.base}/responses/${res.json.id}/input_items`, alice);
    expect(items.json.data[0].content[1].image_url).toBe(url);
    // ...and it travels along a chain.
    up.script({ text: 'still a picture' });
    const next = await postJson(`${sys.base}/responses`, { model, input: 'and now?', previous_response_id: res.json.id }, alice);
    expect(next.status).toBe(200);
    expect(lastChat().body.messages[0].content[1].image_url.url).toBe(url);
  });

  it('input_items pages with limit, order, after and has_more', async () => {
    up.script({ text: 'ok' });
    const input = Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `m${i}` }));
    const created = await postJson(`${sys.base}/responses`, { model, input }, alice);
    const url = `${sys.base}/responses/${created.json.id}/input_items`;
    const desc = await getJson(`${url}?limit=2`, alice);
    expect(desc.json.object).toBe('list');
    expect(desc.json.data.map((i: any) => i.content[0].text)).toEqual(['m4', 'm3']);
    expect(desc.json.has_more).toBe(true);
    expect(desc.json.first_id).toBe(desc.json.data[0].id);
    expect(desc.json.last_id).toBe(desc.json.data[1].id);
    const next = await getJson(`${url}?limit=2&after=${desc.json.last_id}`, alice);
    expect(next.json.data.map((i: any) => i.content[0].text)).toEqual(['m2', 'm1']);
    const asc = await getJson(`${url}?order=asc&limit=10`, alice);
    expect(asc.json.data.map((i: any) => i.content[0].text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(asc.json.has_more).toBe(false);
    expect((await getJson(`${url}?limit=0`, alice)).status).toBe(400);
    expect((await getJson(`${url}?order=up`, alice)).status).toBe(400);
  });

  it('chains follow forks: two children of one parent each see their own history', async () => {
    up.script({ text: 'root' });
    const root = await postJson(`${sys.base}/responses`, { model, input: 'r?' }, alice);
    up.script({ text: 'left' }, { text: 'right' });
    const left = await postJson(`${sys.base}/responses`, { model, input: 'L?', previous_response_id: root.json.id }, alice);
    const right = await postJson(`${sys.base}/responses`, { model, input: 'R?', previous_response_id: root.json.id }, alice);
    up.script({ text: 'x' });
    await postJson(`${sys.base}/responses`, { model, input: 'after right', previous_response_id: right.json.id }, alice);
    expect(lastChat().body.messages.map((m: any) => m.content)).toEqual(['r?', 'root', 'R?', 'right', 'after right']);
    up.script({ text: 'y' });
    await postJson(`${sys.base}/responses`, { model, input: 'after left', previous_response_id: left.json.id }, alice);
    expect(lastChat().body.messages.map((m: any) => m.content)).toEqual(['r?', 'root', 'L?', 'left', 'after left']);
  });

  it('instructions are not carried over a chain (OpenAI rule)', async () => {
    up.script({ text: 'one' });
    const first = await postJson(`${sys.base}/responses`, { model, input: 'q1', instructions: 'old rules' }, alice);
    up.script({ text: 'two' });
    await postJson(`${sys.base}/responses`, { model, input: 'q2', instructions: 'new rules', previous_response_id: first.json.id }, alice);
    const msgs = lastChat().body.messages;
    expect(msgs[0]).toEqual({ role: 'system', content: 'new rules' });
    expect(msgs.some((m: any) => m.content === 'old rules')).toBe(false);
  });

  it('a function call round trip continues the chain with the tool output', async () => {
    up.script({ toolCalls: [{ id: 'call_9', name: 'add', arguments: '{"a":1,"b":2}' }] });
    const call = await postJson(`${sys.base}/responses`, { model, input: 'add 1 and 2', tools: [{ type: 'function', name: 'add', parameters: { type: 'object' } }] }, alice);
    const fc = call.json.output.find((o: any) => o.type === 'function_call');
    expect(fc).toMatchObject({ call_id: 'call_9', name: 'add', status: 'completed' });
    expect(fc.id).toMatch(/^fc_/);
    up.script({ text: '3' });
    const done = await postJson(`${sys.base}/responses`, {
      model, previous_response_id: call.json.id, tools: call.json.tools,
      input: [{ type: 'function_call_output', call_id: 'call_9', output: '3' }],
    }, alice);
    expect(done.json.output_text).toBe('3');
    const msgs = lastChat().body.messages;
    expect(msgs[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'add', arguments: '{"a":1,"b":2}' } }] });
    expect(msgs[2]).toEqual({ role: 'tool', tool_call_id: 'call_9', content: '3' });
    // The tools as the first Response echoed them: `strict` as OpenAI decides an omitted one (this schema cannot be strict).
    expect(call.json.tools[0]).toEqual({ type: 'function', name: 'add', description: null, parameters: { type: 'object' }, strict: false });
    expect(lastChat().body.tools[0]).toEqual({ type: 'function', function: { name: 'add', parameters: { type: 'object' }, strict: false } });
  });
});

describe('tenants', () => {
  it("another principal's responses are 404 on every route and cannot be chained", async () => {
    up.script({ text: 'secret' });
    const mine = await postJson(`${sys.base}/responses`, { model, input: 'x' }, alice);
    const id = mine.json.id;
    expect((await getJson(`${sys.base}/responses/${id}`, bob)).status).toBe(404);
    expect((await getJson(`${sys.base}/responses/${id}?stream=true`, bob)).status).toBe(404);
    expect((await getJson(`${sys.base}/responses/${id}/input_items`, bob)).status).toBe(404);
    expect((await getJson(`${sys.base}/responses/${id}/cancel`, bob, 'POST')).status).toBe(404);
    expect((await getJson(`${sys.base}/responses/${id}`, bob, 'DELETE')).status).toBe(404);
    const chained = await postJson(`${sys.base}/responses`, { model, input: 'y', previous_response_id: id }, bob);
    expect(chained.status).toBe(404);
    expect(chained.json.error.param).toBe('previous_response_id');
    // Still there for its owner.
    expect((await getJson(`${sys.base}/responses/${id}`, alice)).json.output_text).toBe('secret');
  });
});

describe('upstream answers and failures', () => {
  it('reasoning deltas become a reasoning item before the message', async () => {
    up.script({ reasoning: 'think think', text: 'answer' });
    const { events } = await streamCreate({ model, input: 'why?' });
    const completed = events.at(-1)!.data.response;
    expect(completed.output.map((o: any) => o.type)).toEqual(['reasoning', 'message']);
    expect(completed.output[0].content[0].text).toBe('think think');
    expect(events.filter((e) => e.event === 'response.reasoning_text.delta').map((e) => e.data.delta).join('')).toBe('think think');
  });

  it('finish_reason length -> incomplete (stream and not), stored as such', async () => {
    up.script({ text: 'cut sho', finishReason: 'length' });
    const { events } = await streamCreate({ model, input: 'long', max_output_tokens: 3 });
    const last = events.at(-1)!;
    expect(last.event).toBe('response.incomplete');
    expect(last.data.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(lastChat().body.max_tokens).toBe(3);
    const stored = await getJson(`${sys.base}/responses/${last.data.response.id}`, alice);
    expect(stored.json.status).toBe('incomplete');

    up.script({ text: 'cut', finishReason: 'length' });
    const plain = await postJson(`${sys.base}/responses`, { model, input: 'long' }, alice);
    expect(plain.json.status).toBe('incomplete');
    expect(plain.json.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });

  it('an error mid-stream ends in response.failed, stored as failed with partial output', async () => {
    up.script({ text: 'partial answer that breaks', chunkSize: 4, errorAfterChunks: 3 });
    const { status, events } = await streamCreate({ model, input: 'x' });
    expect(status).toBe(200);
    const last = events.at(-1)!;
    expect(last.event).toBe('response.failed');
    expect(last.data.response.error.code).toBe('server_error');
    expect(events.filter((e) => /completed$/.test(e.event ?? '') && e.event === 'response.completed')).toHaveLength(0);
    const stored = await getJson(`${sys.base}/responses/${last.data.response.id}`, alice);
    expect(stored.json.status).toBe('failed');
    expect(stored.json.error).toEqual(last.data.response.error);
  });

  it('a cut stream (socket destroyed) ends in response.failed', async () => {
    up.script({ text: 'this stream will be cut off', chunkSize: 3, cutAfterChunks: 3 });
    const { events } = await streamCreate({ model, input: 'x' });
    expect(events.at(-1)!.event).toBe('response.failed');
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it("upstream 4xx comes back with the upstream's status and message; 5xx as 502", async () => {
    up.script({ status: 400, errorMessage: 'context length exceeded' });
    const bad = await postJson(`${sys.base}/responses`, { model, input: 'x' }, alice);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('context length exceeded');
    // 5xx are retried (routing): every attempt fails here.
    up.script(...Array.from({ length: sys.gw.config.maxAttempts }, () => ({ status: 500, errorMessage: 'boom' })));
    const down = await postJson(`${sys.base}/responses`, { model, input: 'x', stream: true }, alice);
    expect(down.status).toBe(502);
    expect(down.json.error.type).toBe('server_error');
  });
});

describe('client disconnects mid-stream', () => {
  async function openAndDrop(body: object): Promise<string> {
    const controller = new AbortController();
    const res = await fetch(`${sys.base}/responses`, {
      method: 'POST', signal: controller.signal,
      headers: { 'content-type': 'application/json', ...alice },
      body: JSON.stringify({ ...body, stream: true }),
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('response.output_text.delta')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    return /"id":"(resp_[0-9a-f]+)"/.exec(text)![1]!;
  }

  it('store: true -> generation runs on and the stored response completes with the whole answer', async () => {
    up.script({ text: 'the full answer survives the client', chunkSize: 3, chunkDelayMs: 15 });
    const id = await openAndDrop({ model, input: 'x' });
    let got: any;
    for (let i = 0; i < 200; i++) {
      got = (await getJson(`${sys.base}/responses/${id}`, alice)).json;
      if (got.status !== 'in_progress') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(got.status).toBe('completed');
    expect(got.output_text).toBe('the full answer survives the client');
  });

  it('store: false -> the upstream request is aborted', async () => {
    up.script({ text: 'y'.repeat(300), chunkSize: 1, chunkDelayMs: 10 });
    await openAndDrop({ model, input: 'x', store: false });
    const upstreamReq = up.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!;
    for (let i = 0; i < 100 && !upstreamReq.aborted; i++) await new Promise((r) => setTimeout(r, 20));
    expect(upstreamReq.aborted).toBe(true);
  });
});

describe('item_reference input items', () => {
  it('resolve to the stored items of the caller’s earlier responses, input and output alike', async () => {
    up.script({ text: 'first answer' });
    const first = await postJson(`${sys.base}/responses`, { model, input: 'first question' }, alice);
    const question = (await getJson(`${sys.base}/responses/${first.json.id}/input_items`, alice)).json.data[0];
    const answer = first.json.output[0];
    // Item ids name their response, so each reference costs one read of that response.
    expect(question.id.slice(4, 36)).toBe(first.json.id.slice(5));
    expect(answer.id.slice(4, 36)).toBe(first.json.id.slice(5));
    up.script({ text: 'second answer' });
    const second = await postJson(`${sys.base}/responses`, {
      model,
      input: [{ type: 'item_reference', id: question.id }, { type: 'item_reference', id: answer.id }, { role: 'user', content: 'and then?' }],
    }, alice);
    expect(second.status).toBe(200);
    expect(lastChat().body.messages).toEqual([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'and then?' },
    ]);
  });

  it("unknown ids and other principals' items are 400 not found", async () => {
    up.script({ text: 'mine' });
    const mine = await postJson(`${sys.base}/responses`, { model, input: 'x' }, alice);
    const ref = { type: 'item_reference', id: mine.json.output[0].id };
    const other = await postJson(`${sys.base}/responses`, { model, input: [ref] }, bob);
    expect(other.status).toBe(400);
    expect(other.json.error).toMatchObject({ param: 'input[0].id', code: 'not_found' });
    const unknown = await postJson(`${sys.base}/responses`, { model, input: [{ type: 'item_reference', id: 'msg_nothing' }] }, alice);
    expect(unknown.status).toBe(400);
  });
});
