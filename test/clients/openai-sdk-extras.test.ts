// The openai SDK (v7) beyond the basics, pointed at the gateway: `responses.parse` with zod
// formats and tools, `responses.stream` over reasoning and tool calls (and the round trip that
// follows), and `inputItems.list` auto-pagination over more than one page.
import OpenAI from 'openai';
import { conformingFetch } from '../helpers/conformance.ts';
import { zodResponsesFunction, zodTextFormat } from 'openai/helpers/zod';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type System } from '../helpers/harness.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';

let sys: System;
let client: OpenAI;

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [
      { flavor: 'ollama', models: ['llama3.2:latest'] },
      { flavor: 'vllm', models: ['Qwen/Qwen3-8B'] },
    ],
  });
  client = new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch });
});
afterAll(() => sys.close());

const backends = [
  { name: 'an Ollama-style backend', model: 'llama3.2', upstream: () => sys.upstreams[0]! },
  { name: 'a vLLM-style backend', model: 'Qwen/Qwen3-8B', upstream: () => sys.upstreams[1]! },
];

const lastChat = (u: FakeUpstream) => u.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!;

const Recipe = z.object({ name: z.string(), minutes: z.number(), ingredients: z.array(z.string()) });
const recipe = { name: 'Pancakes', minutes: 20, ingredients: ['flour', 'milk', 'eggs'] };

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current temperature in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

describe.each(backends)('openai SDK extras over $name', ({ model, upstream }) => {
  it('responses.parse with a zod text.format', async () => {
    upstream().script({ text: JSON.stringify(recipe) });
    const res = await client.responses.parse({ model, input: 'A quick recipe', text: { format: zodTextFormat(Recipe, 'recipe') } });
    expect(res.output_parsed).toEqual(recipe);
    expect(res.text?.format).toMatchObject({ type: 'json_schema', name: 'recipe', strict: true });
    // The backend was asked for the schema as Chat's response_format.
    expect(lastChat(upstream()).body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: {
        name: 'recipe',
        strict: true,
        schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name', 'minutes', 'ingredients'], additionalProperties: false },
      },
    });
  });

  it('responses.parse with a zod function tool parses the call arguments', async () => {
    upstream().script({ toolCalls: [{ id: 'call_zod1', name: 'get_weather', arguments: '{"city":"Oslo","unit":"c"}' }] });
    const res = await client.responses.parse({
      model,
      input: 'Weather in Oslo?',
      tools: [zodResponsesFunction({ name: 'get_weather', parameters: z.object({ city: z.string(), unit: z.enum(['c', 'f']) }) })],
    });
    const call = res.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'get_weather', call_id: 'call_zod1', parsed_arguments: { city: 'Oslo', unit: 'c' } });
  });

  it('responses.stream over reasoning and a tool call, then the round trip', async () => {
    upstream().script({
      reasoning: 'The user wants the weather; call get_weather.',
      toolCalls: [{ id: 'call_rs1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      chunkSize: 5,
    });
    const stream = client.responses.stream({ model, input: "What's the weather in Paris?", tools: [weatherTool] });
    const events: ResponseStreamEvent[] = [];
    stream.on('event', (e) => events.push(e));
    let reasoning = '';
    stream.on('response.reasoning_text.delta', (e) => { reasoning += e.delta; });
    const args: string[] = [];
    stream.on('response.function_call_arguments.delta', (e) => args.push(e.delta));
    const final = await stream.finalResponse();

    expect(reasoning).toBe('The user wants the weather; call get_weather.');
    expect(args.join('')).toBe('{"city":"Paris"}');
    // Item structure of the stream (deltas collapsed): reasoning item, then the call.
    const shape = events.map((e) => e.type).filter((t, i, all) => !(t.endsWith('.delta') && all[i - 1] === t));
    expect(shape).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));

    expect(final.status).toBe('completed');
    expect(final.output).toHaveLength(2);
    expect(final.output[0]).toMatchObject({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'The user wants the weather; call get_weather.' }] });
    expect(final.output[1]).toMatchObject({ type: 'function_call', name: 'get_weather', call_id: 'call_rs1', arguments: '{"city":"Paris"}', status: 'completed' });
    expect(final.output_text).toBe('');

    // The caller runs the tool and streams the result back on the chain.
    upstream().script({ deltas: ['It is ', '21°C ', 'in Paris.'] });
    const next = client.responses.stream({
      model,
      previous_response_id: final.id,
      input: [{ type: 'function_call_output', call_id: 'call_rs1', output: '{"tempC":21}' }],
      tools: [weatherTool],
    });
    const answer = await next.finalResponse();
    expect(answer.output_text).toBe('It is 21°C in Paris.');
    expect(answer.previous_response_id).toBe(final.id);
    const messages = lastChat(upstream()).body.messages;
    expect(messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(messages[1]).toMatchObject({ tool_calls: [{ id: 'call_rs1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] });
    expect(messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_rs1', content: '{"tempC":21}' });
  });

  it('a Codex-style client: OPENAI_BASE_URL, store: false, the whole history sent back each turn', async () => {
    // Tools that build their client from the environment (Codex with `base_url`, scripts using
    // `new OpenAI()`) need only OPENAI_BASE_URL (and any OPENAI_API_KEY) set to the gateway.
    const saved = { base: process.env.OPENAI_BASE_URL, key: process.env.OPENAI_API_KEY };
    process.env.OPENAI_BASE_URL = sys.base;
    process.env.OPENAI_API_KEY = 'unused';
    let envClient: OpenAI;
    try {
      envClient = new OpenAI({ maxRetries: 0, fetch: conformingFetch });
    } finally {
      if (saved.base === undefined) delete process.env.OPENAI_BASE_URL; else process.env.OPENAI_BASE_URL = saved.base;
      if (saved.key === undefined) delete process.env.OPENAI_API_KEY; else process.env.OPENAI_API_KEY = saved.key;
    }
    const shell = {
      type: 'function' as const, name: 'shell', description: 'Runs a shell command', strict: false,
      parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } }, required: ['command'] },
    };
    const turn = async (input: OpenAI.Responses.ResponseInputItem[]) => {
      const stream = await envClient.responses.create({
        model, instructions: 'You are a coding agent.', input, tools: [shell], tool_choice: 'auto', parallel_tool_calls: false,
        store: false, stream: true, include: ['reasoning.encrypted_content'], prompt_cache_key: 'session-1',
      });
      let completed: OpenAI.Responses.Response | undefined;
      for await (const e of stream) if (e.type === 'response.completed') completed = e.response;
      return completed!;
    };

    upstream().script({ reasoning: 'List the files first.', toolCalls: [{ id: 'call_ls', name: 'shell', arguments: '{"command":["ls"]}' }] });
    const user: OpenAI.Responses.ResponseInputItem = { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is in this repo?' }] };
    const first = await turn([user]);
    expect(first.status).toBe('completed');
    expect((first as unknown as { store: boolean }).store).toBe(false); // echoed, though the SDK's type lacks it
    expect(first.output.map((o) => o.type)).toEqual(['reasoning', 'function_call']);
    // Not stored: a stateless client keeps the history itself.
    await expect(envClient.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });

    upstream().script({ text: 'A README and a src folder.' });
    const second = await turn([user, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: 'call_ls', output: 'README.md\nsrc' }]);
    expect(second.output_text).toBe('A README and a src folder.');
    const sent = lastChat(upstream()).body;
    expect(sent.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(sent.messages[2]).toMatchObject({ tool_calls: [{ id: 'call_ls', function: { name: 'shell', arguments: '{"command":["ls"]}' } }] });
    expect(sent.messages[3]).toEqual({ role: 'tool', tool_call_id: 'call_ls', content: 'README.md\nsrc' });
    expect(sent.parallel_tool_calls).toBe(false);
  });

  it('inputItems.list auto-paginates over 150 items, newest first and with order: asc', async () => {
    upstream().script({ text: 'read them all' });
    const input = Array.from({ length: 150 }, (_, i) => ({ role: 'user' as const, content: `item ${i}` }));
    const res = await client.responses.create({ model, input });
    // Consecutive user items reach a Chat backend as one user turn (chat templates want turns to alternate).
    const sent = lastChat(upstream()).body.messages;
    expect(sent).toHaveLength(1);
    expect(sent[0].content.split('\n\n')).toEqual(input.map((m) => m.content));

    const textOf = (item: OpenAI.Responses.ResponseItem) => (item.type === 'message' && item.content[0]?.type === 'input_text' ? item.content[0].text : null);

    // Default order (desc), default page size (20): 8 pages.
    const desc: string[] = [];
    const ids = new Set<string>();
    for await (const item of client.responses.inputItems.list(res.id)) {
      desc.push(textOf(item)!);
      ids.add(item.id);
    }
    expect(desc).toEqual(input.map((m) => m.content).reverse());
    expect(ids.size).toBe(150);

    // Ascending, at the largest page size: a full page of 100, then the rest.
    const asc: string[] = [];
    for await (const item of client.responses.inputItems.list(res.id, { order: 'asc', limit: 100 })) asc.push(textOf(item)!);
    expect(asc).toEqual(input.map((m) => m.content));

    // Page by page: has_more and the cursor are what the SDK follows.
    const first = await client.responses.inputItems.list(res.id, { order: 'asc', limit: 100 });
    expect(first.data).toHaveLength(100);
    expect(first.has_more).toBe(true);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.data.map(textOf)).toEqual(input.slice(100).map((m) => m.content));
    expect(second.hasNextPage()).toBe(false);
  });
});
