import { afterEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream, type Flavor, type FakeUpstreamOptions } from '../helpers/fake-upstream.ts';

// Tests of the test helper itself, through plain fetch.

const started: FakeUpstream[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.close()));
});

async function start(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const fake = await startFakeUpstream(opts);
  started.push(fake);
  return fake;
}

const post = (url: string, body: unknown, init: RequestInit = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(init.headers ?? {}) }, body: JSON.stringify(body), signal: init.signal });

const chat = (fake: FakeUpstream, body: Record<string, unknown> = {}) =>
  post(`${fake.url}/v1/chat/completions`, { model: fake.models[0], messages: [{ role: 'user', content: 'hi' }], ...body });

/** Reads a body to the end, or as far as it goes when the connection drops. */
async function readAll(res: Response): Promise<{ text: string; truncated: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, truncated: false };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, truncated: true };
  }
}

const frames = (text: string) => text.split('\n\n').filter((f) => f !== '');
const chunksOf = (text: string): any[] => frames(text).filter((f) => f !== 'data: [DONE]').map((f) => JSON.parse(f.slice('data: '.length)));

describe('chat completions stream framing', () => {
  it('ollama: every chunk repeats role, fp_ollama, ends with a finish chunk and [DONE]', async () => {
    const fake = await start({ flavor: 'ollama' });
    fake.script({ text: 'Hello world' });
    const res = await chat(fake, { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const { text } = await readAll(res);
    expect(frames(text).every((f) => f.startsWith('data: '))).toBe(true);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);

    const chunks = chunksOf(text);
    expect(Object.keys(chunks[0])).toEqual(['id', 'object', 'created', 'model', 'system_fingerprint', 'choices']);
    for (const c of chunks) {
      expect(c.id).toMatch(/^chatcmpl-\d+$/);
      expect(c.id).toBe(chunks[0].id);
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.model).toBe('llama3.2:latest');
      expect(c.system_fingerprint).toBe('fp_ollama');
      expect(c.choices[0].delta.role).toBe('assistant');
      expect(c.usage).toBeUndefined();
    }
    expect(chunks.map((c) => c.choices[0].delta.content)).toEqual(['Hell', 'o wo', 'rld', '']);
    expect(chunks.map((c) => c.choices[0].finish_reason)).toEqual([null, null, null, 'stop']);
  });

  it('vllm: role chunk with empty content first, logprobs null everywhere, stop_reason on the finish', async () => {
    const fake = await start({ flavor: 'vllm' });
    fake.script({ deltas: ['Hi', ' there'] });
    const res = await chat(fake, { stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const { text } = await readAll(res);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const chunks = chunksOf(text);
    expect(Object.keys(chunks[0])).toEqual(['id', 'object', 'created', 'model', 'choices']);
    expect(chunks[0].id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(chunks[0].choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
    expect(chunks[1].choices[0]).toEqual({ index: 0, delta: { content: 'Hi' }, logprobs: null, finish_reason: null });
    expect(chunks[2].choices[0].delta).toEqual({ content: ' there' });
    expect(chunks[3].choices[0]).toEqual({ index: 0, delta: { content: '' }, logprobs: null, finish_reason: 'stop', stop_reason: null });
    expect(chunks).toHaveLength(4);
  });

  it('streams reasoning before text: delta.reasoning (ollama), delta.reasoning_content (vllm)', async () => {
    const ollama = await start({ flavor: 'ollama' });
    ollama.script({ reasoning: 'think', text: 'ok' });
    const o = chunksOf((await readAll(await chat(ollama, { stream: true }))).text);
    expect(o[0].choices[0].delta).toEqual({ role: 'assistant', content: '', reasoning: 'thin' });
    expect(o[1].choices[0].delta).toEqual({ role: 'assistant', content: '', reasoning: 'k' });
    expect(o[2].choices[0].delta).toEqual({ role: 'assistant', content: 'ok' });

    const vllm = await start({ flavor: 'vllm' });
    vllm.script({ reasoning: 'think', text: 'ok', chunkSize: 10 });
    const v = chunksOf((await readAll(await chat(vllm, { stream: true }))).text);
    expect(v.map((c) => c.choices[0].delta)).toEqual([
      { role: 'assistant', content: '' }, { reasoning_content: 'think' }, { content: 'ok' }, { content: '' },
    ]);
  });
});

describe('usage chunk', () => {
  it.each<Flavor>(['ollama', 'vllm', 'openai'])('%s: only with stream_options.include_usage, choices: [] before [DONE]', async (flavor) => {
    const fake = await start({ flavor });
    fake.script({ text: 'abc', usage: { prompt: 7, completion: 3 } }, { text: 'abc', usage: { prompt: 7, completion: 3 } });

    const without = chunksOf((await readAll(await chat(fake, { stream: true }))).text);
    expect(without.some((c) => c.usage)).toBe(false);
    expect(without.every((c) => c.choices.length === 1)).toBe(true);

    const withUsage = chunksOf((await readAll(await chat(fake, { stream: true, stream_options: { include_usage: true } }))).text);
    const last = withUsage[withUsage.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(withUsage.slice(0, -1).every((c) => !c.usage)).toBe(true);
  });

  it('vllm usage keys come in vLLM order and carry cached tokens', async () => {
    const fake = await start({ flavor: 'vllm' });
    fake.script({ text: 'x', usage: { prompt: 5, completion: 1, cached: 4 } });
    const { text } = await readAll(await chat(fake, { stream: true, stream_options: { include_usage: true } }));
    const usageFrame = frames(text).at(-2)!;
    expect(usageFrame).toContain('"usage":{"prompt_tokens":5,"total_tokens":6,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":4}}');
  });
});

describe('tool calls', () => {
  const calls = [{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Paris"}' }, { name: 'noop', arguments: '{}' }];

  it('ollama: each call whole in one chunk, then finish_reason tool_calls', async () => {
    const fake = await start({ flavor: 'ollama' });
    fake.script({ toolCalls: calls });
    const chunks = chunksOf((await readAll(await chat(fake, { stream: true }))).text);
    const withCalls = chunks.filter((c) => c.choices[0].delta.tool_calls);
    expect(withCalls).toHaveLength(2);
    expect(withCalls[0].choices[0].delta).toEqual({
      role: 'assistant', content: '',
      tool_calls: [{ id: 'call_abc', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    });
    expect(withCalls[1].choices[0].delta.tool_calls[0]).toMatchObject({ index: 1, function: { name: 'noop', arguments: '{}' } });
    expect(withCalls[1].choices[0].delta.tool_calls[0].id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls');
  });

  it('vllm: id + name + empty arguments first, then argument fragments without id or name', async () => {
    const fake = await start({ flavor: 'vllm' });
    fake.script({ toolCalls: calls });
    const chunks = chunksOf((await readAll(await chat(fake, { stream: true }))).text);
    const deltas = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    const first = deltas.filter((d) => d.index === 0);
    expect(first[0]).toEqual({ id: 'call_abc', type: 'function', index: 0, function: { name: 'get_weather', arguments: '' } });
    for (const d of first.slice(1)) expect(Object.keys(d)).toEqual(['index', 'function']);
    expect(first.slice(1).map((d) => d.function.arguments).join('')).toBe('{"city":"Paris"}');
    expect(deltas.find((d) => d.index === 1).id).toMatch(/^chatcmpl-tool-[0-9a-f]{32}$/);
    const finish = chunks.at(-1).choices[0];
    expect(finish).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls', stop_reason: null });
  });

  it('non-stream: ollama message carries tool_calls and reasoning, body ends with a newline', async () => {
    const fake = await start({ flavor: 'ollama' });
    fake.script({ reasoning: 'r', toolCalls: [calls[0]] });
    const res = await chat(fake);
    const raw = await res.text();
    expect(raw.endsWith('}\n')).toBe(true);
    const body = JSON.parse(raw);
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: '', reasoning: 'r', tool_calls: [{ id: 'call_abc', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      finish_reason: 'tool_calls',
    });
    expect(body.usage).toEqual({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) });
  });

  it('non-stream: vllm message has reasoning_content and tool_calls', async () => {
    const fake = await start({ flavor: 'vllm' });
    fake.script({ text: 'done', reasoning: 'why', usage: { prompt: 2, completion: 3 } });
    const body = await (await chat(fake)).json();
    expect(body.choices[0].message).toMatchObject({ role: 'assistant', content: 'done', reasoning_content: 'why', tool_calls: [] });
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage).toEqual({ prompt_tokens: 2, total_tokens: 5, completion_tokens: 3, prompt_tokens_details: null });
  });
});

describe('native Responses API', () => {
  const parseEvents = (text: string): Array<{ event: string; data: any }> =>
    frames(text).map((f) => {
      const [eventLine, dataLine] = f.split('\n');
      return { event: eventLine.slice('event: '.length), data: JSON.parse(dataLine.slice('data: '.length)) };
    });

  it('streams the full event lifecycle with sequence numbers and upstream ids', async () => {
    const fake = await start({ flavor: 'openai' });
    fake.script({ reasoning: 'plan', text: 'Hi there', toolCalls: [{ id: 'call_1', name: 'f', arguments: '{"a":1}' }], usage: { prompt: 10, completion: 5, cached: 2, reasoningTokens: 1 } });
    const res = await post(`${fake.url}/v1/responses`, { model: 'gpt-4o-mini', input: 'hi', stream: true, store: false });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = parseEvents((await readAll(res)).text);

    for (const [i, e] of events.entries()) {
      expect(e.data.type).toBe(e.event);
      expect(e.data.sequence_number).toBe(i);
    }
    const types = events.map((e) => e.event);
    expect(types).toEqual([
      'response.created', 'response.in_progress',
      'response.output_item.added', 'response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done', 'response.reasoning_summary_part.done', 'response.output_item.done',
      'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.completed',
    ]);

    const created = events[0].data.response;
    expect(created.id).toMatch(/^resp_up[0-9a-f]{48}$/);
    expect(created).toMatchObject({ object: 'response', status: 'in_progress', output: [], usage: null, store: false });

    const textDeltas = events.filter((e) => e.event === 'response.output_text.delta');
    expect(textDeltas.map((e) => e.data.delta).join('')).toBe('Hi there');
    expect(textDeltas[0].data).toMatchObject({ item_id: expect.stringMatching(/^msg_up/), output_index: 1, content_index: 0, logprobs: [] });
    expect(typeof textDeltas[0].data.obfuscation).toBe('string');

    const argsDone = events.find((e) => e.event === 'response.function_call_arguments.done')!.data;
    expect(argsDone).toMatchObject({ item_id: expect.stringMatching(/^fc_up/), output_index: 2, name: 'f', arguments: '{"a":1}' });

    const completed = events.at(-1)!.data.response;
    expect(completed.id).toBe(created.id);
    expect(completed.status).toBe('completed');
    expect(completed.output.map((o: { type: string }) => o.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(completed.output[1].content).toEqual([{ type: 'output_text', annotations: [], logprobs: [], text: 'Hi there' }]);
    expect(completed.output[2]).toMatchObject({ type: 'function_call', status: 'completed', call_id: 'call_1', name: 'f', arguments: '{"a":1}' });
    expect(completed.usage).toEqual({
      input_tokens: 10, input_tokens_details: { cached_tokens: 2 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 1 }, total_tokens: 15,
    });
  });

  it('non-stream returns a Response object; finish "length" makes it incomplete', async () => {
    const fake = await start({ flavor: 'openai' });
    fake.script({ text: 'partial', finishReason: 'length' });
    const body = await (await post(`${fake.url}/v1/responses`, { model: 'gpt-4o-mini', input: 'hi' })).json();
    expect(body).toMatchObject({
      object: 'response', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, model: 'gpt-4o-mini',
      output: [{ type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', text: 'partial' }] }],
    });
    expect(body.output[0].id).toMatch(/^msg_up/);
  });

  it('an in-stream error ends the stream with response.failed', async () => {
    const fake = await start({ flavor: 'openai' });
    fake.script({ text: 'abcdefgh', errorAfterChunks: 4, errorMessage: 'boom' });
    const events = parseEvents((await readAll(await post(`${fake.url}/v1/responses`, { model: 'm', input: 'x', stream: true }))).text);
    expect(events).toHaveLength(5);
    expect(events[4].event).toBe('response.failed');
    expect(events[4].data).toMatchObject({ sequence_number: 4, response: { status: 'failed', error: { code: 'server_error', message: 'boom' } } });
  });
});

describe('errors and faults', () => {
  it('HTTP error statuses use each flavor\'s error shape', async () => {
    const openai = await start({ flavor: 'openai' });
    openai.script({ status: 429, errorMessage: 'slow down', headers: { 'retry-after': '1' } });
    const r1 = await post(`${openai.url}/v1/responses`, { model: 'm', input: 'x' });
    expect(r1.status).toBe(429);
    expect(r1.headers.get('retry-after')).toBe('1');
    expect(await r1.json()).toEqual({ error: { message: 'slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } });

    const ollama = await start({ flavor: 'ollama' });
    ollama.script({ status: 404, errorMessage: 'model "x" not found, try pulling it first' });
    const r2 = await chat(ollama);
    expect(r2.status).toBe(404);
    expect(await r2.json()).toEqual({ error: { message: 'model "x" not found, try pulling it first', type: 'not_found_error', param: null, code: null } });

    const vllm = await start({ flavor: 'vllm' });
    vllm.script({ status: 400, errorMessage: 'bad' }, { status: 503, errorBody: { error: 'raw' } });
    const r3 = await chat(vllm);
    expect(await r3.json()).toEqual({ error: { message: 'bad', type: 'BadRequestError', param: null, code: 400 } });
    const r4 = await chat(vllm);
    expect(r4.status).toBe(503);
    expect(await r4.json()).toEqual({ error: 'raw' });
  });

  it('vllm in-stream error is a Python-dumped error frame followed by [DONE]', async () => {
    const fake = await start({ flavor: 'vllm' });
    fake.script({ text: 'abcdefgh', errorAfterChunks: 2, errorMessage: 'oops' });
    const f = frames((await readAll(await chat(fake, { stream: true }))).text);
    expect(f).toHaveLength(4);
    expect(f[2]).toBe('data: {"error": {"message": "oops", "type": "BadRequestError", "param": null, "code": 400}}');
    expect(f[3]).toBe('data: [DONE]');
  });

  it('cutAfterChunks drops the connection after N frames, without [DONE]', async () => {
    const fake = await start({ flavor: 'ollama' });
    fake.script({ text: 'a'.repeat(40), cutAfterChunks: 3 });
    const { text, truncated } = await readAll(await chat(fake, { stream: true }));
    expect(truncated).toBe(true);
    expect(frames(text)).toHaveLength(3);
    expect(text).not.toContain('[DONE]');
    expect(fake.requests[0].aborted).toBe(false);
  });

  it('cutAfterChunks on a non-stream answer sends half the body', async () => {
    const fake = await start({ flavor: 'openai' });
    fake.script({ text: 'hello', cutAfterChunks: 0 });
    const res = await chat(fake);
    expect(res.status).toBe(200);
    const { text, truncated } = await readAll(res);
    expect(truncated).toBe(true);
    expect(text.startsWith('{"id":"chatcmpl-')).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('malformedAfterChunks inserts a garbage frame and goes on', async () => {
    const fake = await start({ flavor: 'vllm' });
    fake.script({ text: 'abcd', malformedAfterChunks: 1 });
    const f = frames((await readAll(await chat(fake, { stream: true }))).text);
    expect(f[1]).toBe('data: {not json');
    expect(f.at(-1)).toBe('data: [DONE]');
  });

  it('delayMs holds the status line back', async () => {
    const fake = await start();
    fake.script({ delayMs: 150 });
    const t0 = Date.now();
    await (await chat(fake)).json();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });
});

describe('auth, models and routes', () => {
  it('apiKey: 401 in the flavor\'s shape without the right bearer token', async () => {
    const openai = await start({ flavor: 'openai', apiKey: 'sk-test' });
    const denied = await post(`${openai.url}/v1/responses`, { model: 'm', input: 'x' });
    expect(denied.status).toBe(401);
    expect((await denied.json()).error).toMatchObject({ type: 'invalid_request_error', param: null });
    const wrong = await post(`${openai.url}/v1/responses`, { model: 'm', input: 'x' }, { headers: { authorization: 'Bearer nope' } });
    expect((await wrong.json()).error.code).toBe('invalid_api_key');
    const ok = await post(`${openai.url}/v1/responses`, { model: 'm', input: 'x' }, { headers: { authorization: 'Bearer sk-test' } });
    expect(ok.status).toBe(200);
    expect((await ok.json()).output[0].content[0].text).toBe('ok');

    const vllm = await start({ flavor: 'vllm', apiKey: 'k' });
    const v = await fetch(`${vllm.url}/v1/models`);
    expect(v.status).toBe(401);
    expect(await v.json()).toEqual({ error: 'Unauthorized' });

    const ollama = await start({ flavor: 'ollama', apiKey: 'k' });
    const o = await fetch(`${ollama.url}/api/tags`);
    expect(o.status).toBe(401);
    expect(await o.json()).toEqual({ error: 'unauthorized' });
    expect((await fetch(`${ollama.url}/api/tags`, { headers: { authorization: 'Bearer k' } })).status).toBe(200);
  });

  it('ollama advertises models at /api/tags, /api/ps and /v1/models', async () => {
    const fake = await start({ flavor: 'ollama', models: ['llama3.2:latest', 'qwen3:8b'], loaded: ['qwen3:8b'] });
    const tags = await (await fetch(`${fake.url}/api/tags`)).json();
    expect(tags.models.map((m: { name: string }) => m.name)).toEqual(['llama3.2:latest', 'qwen3:8b']);
    expect(tags.models[0]).toMatchObject({ name: 'llama3.2:latest', model: 'llama3.2:latest', details: { format: 'gguf' } });
    const ps = await (await fetch(`${fake.url}/api/ps`)).json();
    expect(ps.models.map((m: { name: string }) => m.name)).toEqual(['qwen3:8b']);
    const list = await (await fetch(`${fake.url}/v1/models`)).json();
    expect(list).toEqual({
      object: 'list',
      data: [
        { id: 'llama3.2:latest', object: 'model', created: expect.any(Number), owned_by: 'library' },
        { id: 'qwen3:8b', object: 'model', created: expect.any(Number), owned_by: 'library' },
      ],
    });
    fake.loaded = [];
    expect(await (await fetch(`${fake.url}/api/ps`)).json()).toEqual({ models: [] });
  });

  it('vllm and openai list /v1/models and 404 the Ollama routes', async () => {
    const vllm = await start({ flavor: 'vllm', models: ['Qwen/Qwen3-8B'] });
    const list = await (await fetch(`${vllm.url}/v1/models`)).json();
    expect(list.data[0]).toMatchObject({ id: 'Qwen/Qwen3-8B', object: 'model', owned_by: 'vllm' });
    const tags = await fetch(`${vllm.url}/api/tags`);
    expect(tags.status).toBe(404);
    expect(await tags.json()).toEqual({ detail: 'Not Found' });

    const openai = await start({ flavor: 'openai' });
    const missing = await fetch(`${openai.url}/nope`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.message).toBe('Invalid URL (GET /nope)');
  });

  it('records every request with its parsed body and headers; fallback can be a function', async () => {
    const fake = await start({ flavor: 'vllm' });
    fake.fallback = (req) => ({ text: `echo ${req.body.messages.length}` });
    const res = await chat(fake, { stream: true, stream_options: { include_usage: true }, store: false });
    const chunks = chunksOf((await readAll(res)).text);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('echo 1');
    await fetch(`${fake.url}/v1/models`);
    await fake.waitForRequests(2);
    const [first, second] = fake.requests;
    expect(first).toMatchObject({ method: 'POST', path: '/v1/chat/completions', aborted: false });
    expect(first.body.stream_options).toEqual({ include_usage: true });
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.reply).toEqual({ text: 'echo 1' });
    expect(second).toMatchObject({ method: 'GET', path: '/v1/models' });
    await expect(fake.waitForRequests(3, 50)).rejects.toThrow(/expected 3 requests/);
  });
});

describe('connection tracking', () => {
  const until = async (cond: () => boolean, ms = 2000) => {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return cond();
  };

  it('records a client abort mid-stream', async () => {
    const fake = await start({ flavor: 'ollama' });
    fake.script({ text: 'x'.repeat(100), chunkDelayMs: 20 });
    const res = await chat(fake, { stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(await until(() => fake.requests[0].aborted)).toBe(true);
    expect(fake.requests[0].closedAt).toBeTypeOf('number');
  });

  it('records a client abort of a hung request', async () => {
    const fake = await start({ flavor: 'openai' });
    fake.script({ hang: true });
    const ctrl = new AbortController();
    const pending = post(`${fake.url}/v1/responses`, { model: 'm', input: 'x' }, { signal: ctrl.signal });
    await fake.waitForRequests(1);
    ctrl.abort();
    await expect(pending).rejects.toThrow();
    expect(await until(() => fake.requests[0].aborted)).toBe(true);
  });

  it('close() ends hung requests without marking them aborted', async () => {
    const fake = await startFakeUpstream();
    fake.script({ hang: true });
    const pending = chat(fake);
    await fake.waitForRequests(1);
    await fake.close();
    await expect(pending).rejects.toThrow();
    expect(fake.requests[0].aborted).toBe(false);
  });
});
