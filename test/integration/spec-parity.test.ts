// TypeScript counterparts of the spec's HTTP tests (TestTranslatedPath, TestNativePath,
// TestStorageAndChaining, TestBackgroundMode.test_background_requires_store), run against the
// real handler over HTTP, dynalite, and fake upstreams that speak as Ollama and OpenAI do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, sseEvents, startSystem, type System } from '../helpers/harness.ts';

let sys: System;
let ollama: System['upstreams'][number];
let openai: System['upstreams'][number];

beforeAll(async () => {
  sys = await startSystem({ upstreams: [{ flavor: 'ollama', models: ['test-model:latest'] }, { flavor: 'openai', models: ['gpt'] }] });
  [ollama, openai] = sys.upstreams as [typeof ollama, typeof openai];
});
afterAll(() => sys.close());

const lastChatRequest = () => ollama.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!;
const lastNativeRequest = () => openai.requests.filter((r) => r.path === '/v1/responses').at(-1)!;

describe('TestTranslatedPath', () => {
  it('test_nonstream', async () => {
    ollama.script({ text: 'hello world', usage: { prompt: 3, completion: 5 } });
    const res = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'hi', store: false });
    expect(res.status).toBe(200);
    expect(res.json.object).toBe('response');
    expect(res.json.output_text).toBe('hello world');
    expect(res.json.usage).toMatchObject({ input_tokens: 3, output_tokens: 5, total_tokens: 8 });
    expect(res.json.id).toMatch(/^resp_[0-9a-f]{24,}$/);
    // The `:latest` rule: "test-model" reached the endpoint as "test-model:latest".
    expect(lastChatRequest().body.model).toBe('test-model:latest');
  });

  it('test_stream_event_sequence', async () => {
    ollama.script({ deltas: ['Hel', 'lo'], usage: { prompt: 3, completion: 5 } });
    const res = await fetch(`${sys.base}/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'test-model', input: 'hi', stream: true, store: false }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseEvents(await res.text());
    const types = events.map((e) => e.event);
    expect(types[0]).toBe('response.created');
    expect(types).toContain('response.output_text.delta');
    expect(types.at(-1)).toBe('response.completed');
    expect(events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe('Hello');
    const completed = events.find((e) => e.event === 'response.completed')!;
    expect(completed.data.response.usage.input_tokens).toBe(3);
    // We ask for the usage chunk and wait for it.
    expect(lastChatRequest().body.stream_options).toEqual({ include_usage: true });
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('test_stream_tool_calls', async () => {
    ollama.script({ toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"hi"}' }], usage: { prompt: 4, completion: 2 } });
    const res = await fetch(`${sys.base}/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'test-model', input: 'lookup hi', stream: true, store: false }),
    });
    const events = sseEvents(await res.text());
    const types = events.map((e) => e.event);
    expect(types).toContain('response.function_call_arguments.delta');
    expect(types).toContain('response.function_call_arguments.done');
    expect(events.filter((e) => e.event === 'response.function_call_arguments.delta').map((e) => e.data.delta).join('')).toBe('{"q":"hi"}');
    const completed = events.find((e) => e.event === 'response.completed')!;
    const fc = completed.data.response.output.find((i: any) => i.type === 'function_call');
    expect(fc.name).toBe('lookup');
    expect(fc.arguments).toBe('{"q":"hi"}');
    expect(fc.call_id).toBe('call_1');
  });
});

describe('TestNativePath', () => {
  it('test_nonstream_passthrough_rewrites_id', async () => {
    openai.script({ text: 'native hi', usage: { prompt: 2, completion: 3 } });
    const res = await postJson(`${sys.base}/responses`, { model: 'gpt', input: 'hi', store: false });
    expect(res.status).toBe(200);
    expect(res.json.output_text).toBe('native hi');
    expect(res.json.id).toMatch(/^resp_/);
    expect(res.text).not.toMatch(/resp_up|msg_up/); // no upstream id survives anywhere
    // The native call must not delegate state upstream.
    expect(lastNativeRequest().body.store).toBe(false);
    expect(lastNativeRequest().body).not.toHaveProperty('previous_response_id');
  });

  it('test_stream_passthrough', async () => {
    openai.script({ deltas: ['h', 'i'] });
    const res = await fetch(`${sys.base}/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', input: 'hi', stream: true, store: false }),
    });
    const text = await res.text();
    const events = sseEvents(text);
    const completed = events.find((e) => e.event === 'response.completed')!;
    expect(completed.data.response.id).toMatch(/^resp_/);
    expect(text).not.toMatch(/resp_up|msg_up/);
    expect(completed.data.response.output_text).toBe('hi');
    expect(lastNativeRequest().body.store).toBe(false);
  });
});

describe('TestStorageAndChaining', () => {
  it('test_store_and_retrieve', async () => {
    ollama.script({ text: 'remembered' });
    const created = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'hi', store: true });
    const got = await getJson(`${sys.base}/responses/${created.json.id}`);
    expect(got.status).toBe(200);
    expect(got.json.output_text).toBe('remembered');
    expect(got.json).toEqual(created.json);
  });

  it('test_previous_response_id_rehydrates_history', async () => {
    ollama.script({ text: 'turn-one' });
    const first = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'first?', store: true });
    ollama.script({ text: 'turn-two' });
    const second = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'second?', previous_response_id: first.json.id, store: true });
    expect(second.status).toBe(200);
    expect(second.json.previous_response_id).toBe(first.json.id);
    const contents = lastChatRequest().body.messages.map((m: any) => m.content);
    expect(contents).toEqual(['first?', 'turn-one', 'second?']);
  });

  it('test_delete', async () => {
    ollama.script({ text: 'bye' });
    const created = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'hi', store: true });
    const deleted = await getJson(`${sys.base}/responses/${created.json.id}`, {}, 'DELETE');
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({ id: created.json.id, object: 'response', deleted: true });
    expect((await getJson(`${sys.base}/responses/${created.json.id}`)).status).toBe(404);
  });

  it('test_retrieve_missing_404', async () => {
    const res = await getJson(`${sys.base}/responses/resp_missing`);
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param: null });
    expect(res.json.error.message).toContain('resp_missing');
  });
});

describe('TestBackgroundMode', () => {
  it('test_background_requires_store', async () => {
    const res = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'hi', background: true, store: false });
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe('background');
  });
});
