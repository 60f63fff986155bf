// The openai SDK's `responses.inputTokens.count` and `responses.compact` against the gateway
// (issue 13 point 7): counts exact where the backend has a tokenizer (vLLM's /tokenize, llama.cpp's
// /apply-template + /tokenize, a native upstream's own input_tokens) and estimated, marked, where
// it has none (Ollama); compaction written by the model on Chat backends, sealed by the gateway and
// given back to the model as text; Codex's `compaction_trigger` turn; native backends pass through.
import OpenAI from 'openai';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformingFetch } from '../helpers/conformance.ts';
import { postJson, sseEvents, startSystem, type System } from '../helpers/harness.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { fakeTemplate, fakeTokenCount } from '../helpers/fake-tokenize.ts';
import { validateWithSdk } from '../helpers/sdk-validate.ts';
import { COMPACTION_PROMPT, SUMMARY_PREFIX } from '../../shared/translate/compaction.ts';

let sys: System;
let client: OpenAI;
const [OLLAMA, VLLM, LLAMA, OPENAI] = [0, 1, 2, 3];
const up = (i: number) => sys.upstreams[i]!;
const calls = (u: FakeUpstream, path: string) => u.requests.filter((r) => r.path === path);
const last = (u: FakeUpstream, path: string) => calls(u, path).at(-1)!.body;

const weather = {
  type: 'function' as const, name: 'get_weather', strict: true, description: 'Current temperature in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
};

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [
      { flavor: 'ollama', models: ['llama3.2:latest'] },
      { flavor: 'vllm', models: ['Qwen/Qwen3-8B'] },
      { flavor: 'vllm', models: ['gemma-3-4b'], tokenizer: 'llama.cpp' },
      { flavor: 'openai', models: ['gpt-5.5'] },
    ],
    extraConfig: 'reasoning_keys: ["tokens-and-compaction-test-key-0123456789"]',
  });
  client = new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch });
});
afterAll(() => sys.close());

describe('responses.inputTokens.count', () => {
  it("is exact on vLLM: its tokenizer counts the Chat request a create would send (history, instructions, tools)", async () => {
    up(VLLM).script({ text: 'It is 21°C.' });
    const first = await client.responses.create({ model: 'Qwen/Qwen3-8B', input: 'Weather in Paris?', instructions: 'Be brief.' });
    const params = { model: 'Qwen/Qwen3-8B', previous_response_id: first.id, input: 'And in Oslo?', instructions: 'Be brief.', tools: [weather] };
    const { data, response } = await client.responses.inputTokens.count(params).withResponse();
    const tokenized = last(up(VLLM), '/tokenize');
    expect(data).toEqual({ object: 'response.input_tokens', input_tokens: fakeTokenCount(fakeTemplate(tokenized.messages, tokenized.tools)) });
    expect(response.headers.get('x-gateway-token-count')).toBe('exact');
    // What was counted is what a create sends.
    up(VLLM).script({ text: 'Cold.' });
    await client.responses.create(params);
    const sent = last(up(VLLM), '/v1/chat/completions');
    expect(tokenized).toMatchObject({ model: 'Qwen/Qwen3-8B', messages: sent.messages, tools: sent.tools, add_generation_prompt: true });
    expect(sent.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
  });

  it('is exact on llama.cpp: recognized by its /tokenize answer, the template rendered by /apply-template, then tokenized', async () => {
    const before = up(LLAMA).requests.length;
    const count = await client.responses.inputTokens.count({ model: 'gemma-3-4b', input: 'Say hello to the world, twice.' });
    const seen = up(LLAMA).requests.slice(before).map((r) => `${r.method} ${r.path}`).filter((r) => r.startsWith('POST'));
    expect(seen).toEqual(['POST /tokenize', 'POST /apply-template', 'POST /tokenize']);
    const prompt = fakeTemplate([{ role: 'user', content: 'Say hello to the world, twice.' }]);
    expect(last(up(LLAMA), '/tokenize')).toEqual({ model: 'gemma-3-4b', content: prompt });
    expect(count).toEqual({ object: 'response.input_tokens', input_tokens: fakeTokenCount(prompt) });
  });

  it('is an estimate on Ollama (no tokenize API), marked as one in the body and a header', async () => {
    const { data, response } = await client.responses.inputTokens.count({ model: 'llama3.2', input: 'x'.repeat(400), tools: [weather] }).withResponse();
    expect(data).toMatchObject({ object: 'response.input_tokens', estimated: true });
    expect(data.input_tokens).toBeGreaterThan(100); // 400 characters of input and a tool
    expect(data.input_tokens).toBeLessThan(250);
    expect(response.headers.get('x-gateway-token-count')).toBe('estimated');
  });

  it("passes through to a native upstream's input_tokens, with the chain as items", async () => {
    up(OPENAI).script({ text: 'first answer' });
    const first = await client.responses.create({ model: 'gpt-5.5', input: 'hello' });
    // No model: it is the previous response's.
    const count = await client.responses.inputTokens.count({ previous_response_id: first.id, input: 'and again' });
    const sent = last(up(OPENAI), '/v1/responses/input_tokens');
    expect(sent).not.toHaveProperty('previous_response_id');
    expect(sent.input.map((i: { role: string }) => i.role)).toEqual(['user', 'assistant', 'user']);
    expect(count).toEqual({ object: 'response.input_tokens', input_tokens: fakeTokenCount(JSON.stringify(['', sent.input, []])) });
  });

  it('needs a model, from the request or the response it continues', async () => {
    const err = await client.responses.inputTokens.count({ input: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('model');
  });

  it('takes previous_response_id or conversation, not both (as create)', async () => {
    const err = await client.responses.inputTokens.count({ model: 'llama3.2', input: 'hi', previous_response_id: 'resp_abc', conversation: 'conv_abc' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ param: 'conversation', code: 'mutually_exclusive_parameters' });
  });
});

describe('responses.compact on a Chat backend', () => {
  const history: ResponseInputItem[] = [
    { role: 'user', content: 'Plan a trip to Oslo in May.' },
    { role: 'assistant', content: 'Sure: flights, then a hotel near the harbour.' },
    { role: 'user', content: 'Budget is 1500 EUR.' },
  ];

  it('has the model write the summary; the answer is the user messages, then one sealed compaction item', async () => {
    up(OLLAMA).script({ text: 'SUMMARY: Oslo trip in May, 1500 EUR, hotel by the harbour.', usage: { prompt: 120, completion: 15 } });
    const compacted = await client.responses.compact({ model: 'llama3.2', input: history });
    expect(compacted).toMatchObject({ object: 'response.compaction', id: expect.stringMatching(/^resp_/), created_at: expect.any(Number) });
    expect(compacted.output.map((i) => [i.type, (i as { role?: string }).role])).toEqual([['message', 'user'], ['message', 'user'], ['compaction', undefined]]);
    const item = compacted.output[2] as { id: string; encrypted_content: string };
    expect(item.id).toMatch(/^cmp_/);
    expect(item.encrypted_content).toMatch(/^gw1\./);
    expect(item.encrypted_content).not.toContain('Oslo');
    expect(compacted.usage).toMatchObject({ input_tokens: 120, output_tokens: 15, total_tokens: 135 });
    const asked = last(up(OLLAMA), '/v1/chat/completions');
    expect(asked).not.toHaveProperty('tools');
    expect(asked.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining(COMPACTION_PROMPT) });

    // Sent back, the compaction item gives the model the summary, never the blob.
    up(OLLAMA).script({ text: 'Booked.' });
    await client.responses.create({ model: 'llama3.2', input: [...compacted.output, { role: 'user', content: 'Book it.' }] as ResponseInputItem[] });
    const messages = last(up(OLLAMA), '/v1/chat/completions').messages;
    expect(JSON.stringify(messages)).not.toContain('gw1.');
    expect(messages.at(-1).content).toContain(`${SUMMARY_PREFIX}SUMMARY: Oslo trip in May`);
    expect(messages.at(-1).content).toContain('Book it.');
  });

  it('compacts a stored chain by previous_response_id', async () => {
    up(OLLAMA).script({ text: 'Noted.' });
    const first = await client.responses.create({ model: 'llama3.2', input: 'My name is Ada.' });
    up(OLLAMA).script({ text: 'SUMMARY: the user is Ada.' });
    const compacted = await client.responses.compact({ model: 'llama3.2', previous_response_id: first.id, input: 'What is my name?' });
    expect(compacted.output.filter((i) => i.type === 'message').map((i) => (i as { content: Array<{ text: string }> }).content[0]!.text)).toEqual(['My name is Ada.', 'What is my name?']);
    expect(last(up(OLLAMA), '/v1/chat/completions').messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it("serves Codex's compaction turn (input ending in compaction_trigger) with exactly one compaction item, streamed", async () => {
    up(OLLAMA).script({ text: 'SUMMARY: wrote notes.txt.' });
    const res = await postJson(`${sys.base}/responses`, {
      model: 'llama3.2', stream: true, store: false, tools: [weather],
      input: [...history, { type: 'compaction_trigger' }],
    });
    expect(res.status).toBe(200);
    const done = sseEvents(res.text).map((e) => e.data).filter((e) => e.type === 'response.output_item.done');
    expect(done.map((e) => e.item.type)).toEqual(['compaction']);
    const final = await validateWithSdk(res.text);
    expect(final.output).toEqual([expect.objectContaining({ type: 'compaction', encrypted_content: expect.stringMatching(/^gw1\./) })]);
    expect(last(up(OLLAMA), '/v1/chat/completions')).not.toHaveProperty('tools');
  });

  it('answers a compaction turn as JSON and in the background too', async () => {
    up(OLLAMA).script({ text: 'SUMMARY: one.' }, { text: 'SUMMARY: two.' });
    const input = [...history, { type: 'compaction_trigger' }] as ResponseInputItem[];
    const json = await client.responses.create({ model: 'llama3.2', input });
    expect(json.output).toEqual([expect.objectContaining({ type: 'compaction', id: expect.stringMatching(/^cmp_/) })]);
    let bg = await client.responses.create({ model: 'llama3.2', input, background: true });
    for (let i = 0; i < 100 && !['completed', 'failed'].includes(bg.status!); i++) {
      await new Promise((r) => setTimeout(r, 50));
      bg = await client.responses.retrieve(bg.id);
    }
    expect(bg.status).toBe('completed');
    expect(bg.output).toEqual([expect.objectContaining({ type: 'compaction', encrypted_content: expect.stringMatching(/^gw1\./) })]);
    // Its logged stream replays whole, in order.
    const replayed = await client.responses.retrieve(bg.id, { stream: true });
    const types: string[] = [];
    for await (const e of replayed) types.push(e.type);
    expect(types).toEqual(['response.created', 'response.queued', 'response.in_progress', 'response.output_item.added', 'response.output_item.done', 'response.completed']);
  });
});

describe('responses.compact on a native backend', () => {
  it("is the upstream's own, of the whole history, under our id", async () => {
    const compacted = await client.responses.compact({ model: 'gpt-5.5', input: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] });
    expect(last(up(OPENAI), '/v1/responses/compact').input).toHaveLength(2);
    expect(compacted.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(compacted.output.at(-1)).toMatchObject({ type: 'compaction', encrypted_content: expect.stringMatching(/^gAAAAB/) });
  });

  it("sends the upstream the client's fields, not the gateway's own (previous_response_id, nomyo)", async () => {
    up(OPENAI).script({ text: 'first' });
    const first = await client.responses.create({ model: 'gpt-5.5', input: 'hello' });
    const res = await postJson(`${sys.base}/responses/compact`, { model: 'gpt-5.5', previous_response_id: first.id, input: 'and on', prompt_cache_key: 'k1', nomyo: { cache: false } });
    expect(res.status).toBe(200);
    const sent = last(up(OPENAI), '/v1/responses/compact');
    expect(sent).not.toHaveProperty('previous_response_id');
    expect(sent).not.toHaveProperty('nomyo');
    expect(sent).toMatchObject({ model: 'gpt-5.5', prompt_cache_key: 'k1' });
    expect(sent.input).toHaveLength(3);
  });
});
