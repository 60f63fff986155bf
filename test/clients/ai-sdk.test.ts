import { conformingFetch } from '../helpers/conformance.ts';
// The Vercel AI SDK (`ai` with `@ai-sdk/openai`) pointed at the gateway. `openai(model)` is the
// provider's Responses model, so every call here goes through /v1/responses; the backend is a
// Chat Completions server (Ollama style) scripted by the tests.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, Output, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSystem, type System } from '../helpers/harness.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { weatherModel, type ChatMessage } from '../helpers/weather-model.ts';

let sys: System;
let openai: ReturnType<typeof createOpenAI>;
let upstream: FakeUpstream;
let seen: number;

// The AI SDK's own console warnings (about features a test does not use) are not ours to print.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

beforeAll(async () => {
  sys = await startSystem({ upstreams: [{ flavor: 'ollama', models: ['llama3.2:latest'] }] });
  upstream = sys.upstreams[0]!;
  openai = createOpenAI({ baseURL: sys.base, apiKey: 'unused', fetch: conformingFetch });
});
afterAll(() => sys.close());
beforeEach(() => {
  seen = upstream.requests.length;
  upstream.fallback = { text: 'ok' };
});

/** Chat requests the upstream received since the test began. */
const chatRequests = () => upstream.requests.slice(seen).filter((r) => r.path === '/v1/chat/completions');

function weatherTool(calls: Array<{ city: string }>) {
  return tool({
    description: 'Current temperature in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      calls.push({ city });
      return { city, tempC: 21 };
    },
  });
}

describe('AI SDK over the gateway', () => {
  it('generateText', async () => {
    upstream.script({ text: 'Hello from the model', usage: { prompt: 7, completion: 4 } });
    const result = await generateText({ model: openai('llama3.2'), system: 'Be brief.', prompt: 'Say hello' });
    expect(result.text).toBe('Hello from the model');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 7, outputTokens: 4, totalTokens: 11 });
    const responseId = result.providerMetadata?.openai?.responseId;
    expect(responseId).toMatch(/^resp_/);
    expect(chatRequests()[0]!.body.messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }]);
  });

  it('streamText', async () => {
    upstream.script({ deltas: ['One', ' two', ' three'] });
    const result = streamText({ model: openai.responses('llama3.2'), prompt: 'count' });
    const chunks: string[] = [];
    for await (const chunk of result.textStream) chunks.push(chunk);
    expect(chunks.join('')).toBe('One two three');
    expect(chunks.length).toBeGreaterThan(1);
    expect(await result.text).toBe('One two three');
    expect(await result.finishReason).toBe('stop');
    expect(chatRequests()[0]!.body.stream).toBe(true);
  });

  it('generateText runs a tool call round trip (stopWhen)', async () => {
    upstream.fallback = weatherModel;
    const calls: Array<{ city: string }> = [];
    const result = await generateText({
      model: openai('llama3.2'),
      tools: { get_weather: weatherTool(calls) },
      stopWhen: stepCountIs(5),
      prompt: "What's the weather in Paris?",
    });
    expect(calls).toEqual([{ city: 'Paris' }]);
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]!.toolCalls).toMatchObject([{ toolName: 'get_weather', input: { city: 'Paris' } }]);
    expect(result.steps[0]!.toolResults).toMatchObject([{ toolName: 'get_weather', output: { city: 'Paris', tempC: 21 } }]);
    expect(result.text).toBe('It is 21°C in Paris.');

    const [first, second] = chatRequests();
    expect(first!.body.tools).toEqual([expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'get_weather' }) })]);
    const messages = second!.body.messages as ChatMessage[];
    const call = messages.find((m) => m.role === 'assistant')?.tool_calls?.[0];
    expect(call?.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(messages.at(-1)).toEqual({ role: 'tool', tool_call_id: call!.id, content: JSON.stringify({ city: 'Paris', tempC: 21 }) });
  });

  it('streamText runs a tool call round trip (stopWhen)', async () => {
    upstream.fallback = weatherModel;
    const calls: Array<{ city: string }> = [];
    const result = streamText({
      model: openai('llama3.2'),
      tools: { get_weather: weatherTool(calls) },
      stopWhen: stepCountIs(5),
      prompt: "What's the weather in Paris?",
    });
    const parts: string[] = [];
    for await (const part of result.fullStream) parts.push(part.type);
    expect(calls).toEqual([{ city: 'Paris' }]);
    expect(await result.text).toBe('It is 21°C in Paris.');
    expect(parts).toContain('tool-call');
    expect(parts).toContain('tool-result');
    expect(parts.indexOf('tool-result')).toBeLessThan(parts.indexOf('text-delta'));
    expect((await result.steps).length).toBe(2);
    expect(chatRequests().every((r) => r.body.stream === true)).toBe(true);
  });

  it.each([
    { store: 'default (true)', providerOptions: undefined },
    { store: 'false', providerOptions: { openai: { store: false } } },
  ])('a tool call round trip over a reasoning model (qwen3-style: reasoning, then the call), store $store', async ({ providerOptions }) => {
    // With store on (the provider's default), the SDK sends the first step's reasoning back as an
    // `item_reference` to the stored reasoning item rather than repeating it; with store false it
    // sends the reasoning item itself.
    upstream.fallback = (req) => {
      const reply = weatherModel(req);
      return reply.toolCalls ? { ...reply, reasoning: 'I should look up the weather in Paris.' } : reply;
    };
    const calls: Array<{ city: string }> = [];
    const result = await generateText({
      model: openai('llama3.2'),
      tools: { get_weather: weatherTool(calls) },
      stopWhen: stepCountIs(5),
      prompt: "What's the weather in Paris?",
      providerOptions,
    });
    expect(calls).toEqual([{ city: 'Paris' }]);
    // The SDK reads reasoning text from `summary` only; the gateway puts a chat backend's reasoning
    // in `content` (reasoning_text), so the SDK sees the item with empty text.
    expect(result.steps[0]!.reasoning).toHaveLength(1);
    expect(result.text).toBe('It is 21°C in Paris.');
    const messages = chatRequests()[1]!.body.messages as ChatMessage[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
  });

  // What a chat app does: the previous turn's messages (with the provider's item ids when stored)
  // go back in with the next user message; with store: false the history is sent back whole.
  it.each([
    ['a multi-turn conversation: the earlier result.response.messages sent back', undefined],
    ['a multi-turn conversation with store: false (history sent back whole)', { openai: { store: false } }],
  ] as const)('%s', async (_name, providerOptions) => {
    upstream.fallback = (req) => ({ text: req.body.messages.length === 1 ? 'Nice to meet you, Ada.' : 'Your name is Ada.' });
    const first = await generateText({ model: openai('llama3.2'), prompt: 'My name is Ada.', providerOptions });
    const second = await generateText({
      model: openai('llama3.2'),
      providerOptions,
      messages: [{ role: 'user', content: 'My name is Ada.' }, ...first.response.messages, { role: 'user', content: 'What is my name?' }],
    });
    expect(second.text).toBe('Your name is Ada.');
    expect(chatRequests()[1]!.body.messages).toEqual([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Nice to meet you, Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  const Recipe = z.object({ name: z.string(), minutes: z.number(), ingredients: z.array(z.string()) });
  const recipe = { name: 'Pancakes', minutes: 20, ingredients: ['flour', 'milk', 'eggs'] };

  it('structured output: generateText with Output.object', async () => {
    upstream.script({ text: JSON.stringify(recipe) });
    const result = await generateText({ model: openai('llama3.2'), output: Output.object({ schema: Recipe, name: 'recipe' }), prompt: 'A quick recipe' });
    expect(result.output).toEqual(recipe);
    const format = chatRequests()[0]!.body.response_format;
    expect(format).toMatchObject({ type: 'json_schema', json_schema: { name: 'recipe', strict: true } });
    expect(format.json_schema.schema).toMatchObject({
      type: 'object',
      properties: { name: { type: 'string' }, minutes: { type: 'number' }, ingredients: { type: 'array', items: { type: 'string' } } },
      required: ['name', 'minutes', 'ingredients'],
      additionalProperties: false,
    });
  });

  it('structured output: streamText with Output.object', async () => {
    upstream.script({ text: JSON.stringify(recipe), chunkSize: 6 });
    const result = streamText({ model: openai('llama3.2'), output: Output.object({ schema: Recipe }), prompt: 'A quick recipe' });
    const partials: unknown[] = [];
    for await (const partial of result.partialOutputStream) partials.push(partial);
    expect(partials.length).toBeGreaterThan(1);
    expect(await result.output).toEqual(recipe);
    expect(chatRequests()[0]!.body.response_format).toMatchObject({ type: 'json_schema', json_schema: { strict: true } });
  });
});
