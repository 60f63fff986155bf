// The OpenAI Agents SDK (`@openai/agents`) pointed at the gateway, unchanged: an agent with a
// function tool runs its tool loop over the Responses API, streamed and not, chains runs with
// `previousResponseId`, and keeps history in the Conversations API (`OpenAIConversationsSession`,
// `conversationId`). The backend is a Chat Completions server (Ollama / vLLM style) scripted to
// call the tool when the conversation has no tool result yet, and to answer from the result after.
import OpenAI from 'openai';
import { conformingFetch } from '../helpers/conformance.ts';
import { Agent, OpenAIConversationsSession, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSystem, type System } from '../helpers/harness.ts';
import { weatherModel, type ChatMessage } from '../helpers/weather-model.ts';

let sys: System;

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [
      { flavor: 'ollama', models: ['llama3.2:latest'] },
      { flavor: 'vllm', models: ['Qwen/Qwen3-8B'] },
    ],
  });
  // What the README tells users to do: the SDK's default client is an OpenAI client on our URL.
  setDefaultOpenAIClient(new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch }));
  setOpenAIAPI('responses');
  setTracingDisabled(true); // traces would go to OpenAI's tracing endpoint
});
afterAll(() => sys.close());

const TEMPS: Record<string, number> = { Paris: 21, Tokyo: 17 };
let calls: Array<{ city: string }> = [];

const getWeather = tool({
  name: 'get_weather',
  description: 'Current temperature in a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    calls.push({ city });
    return { city, tempC: TEMPS[city] ?? 0 };
  },
});

const backends = [
  { name: 'an Ollama-style backend', model: 'llama3.2', upstream: () => sys.upstreams[0]! },
  { name: 'a vLLM-style backend', model: 'Qwen/Qwen3-8B', upstream: () => sys.upstreams[1]! },
];

describe.each(backends)('Agents SDK over $name', ({ model, upstream }) => {
  let agent: Agent;
  let seen: number;
  beforeEach(() => {
    calls = [];
    upstream().fallback = weatherModel;
    seen = upstream().requests.length;
    agent = new Agent({ name: 'Weather', instructions: 'Answer weather questions with the get_weather tool.', model, tools: [getWeather] });
  });
  /** Chat requests the upstream received since the test began. */
  const chatRequests = () => upstream().requests.slice(seen).filter((r) => r.path === '/v1/chat/completions');

  it('runs a multi-step tool loop (run)', async () => {
    const result = await run(agent, "What's the weather in Paris?");
    expect(calls).toEqual([{ city: 'Paris' }]);
    expect(result.finalOutput).toBe('It is 21°C in Paris.');
    expect(result.lastResponseId).toMatch(/^resp_/);

    // Two model turns: the tool call, then the answer with the tool's output in the conversation.
    const reqs = chatRequests();
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.body.messages[0]).toEqual({ role: 'system', content: 'Answer weather questions with the get_weather tool.' });
    expect(reqs[0]!.body.tools).toEqual([expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'get_weather' }) })]);
    const second = reqs[1]!.body.messages as ChatMessage[];
    const call = second.find((m) => m.role === 'assistant' && m.tool_calls)?.tool_calls?.[0];
    expect(call?.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(second.at(-1)).toEqual({ role: 'tool', tool_call_id: call!.id, content: JSON.stringify({ city: 'Paris', tempC: 21 }) });

    // Both turns are stored responses; the last one holds the answer.
    const client = new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch });
    const stored = await client.responses.retrieve(result.lastResponseId!);
    expect(stored.output_text).toBe('It is 21°C in Paris.');
  });

  it('runs the tool loop streamed (run with stream: true)', async () => {
    const stream = await run(agent, "What's the weather in Tokyo?", { stream: true });
    const rawTypes: string[] = [];
    const runItems: string[] = [];
    let text = '';
    for await (const event of stream) {
      if (event.type === 'raw_model_stream_event') {
        rawTypes.push(event.data.type);
        if (event.data.type === 'output_text_delta') text += event.data.delta;
      } else if (event.type === 'run_item_stream_event') runItems.push(event.name);
    }
    await stream.completed;
    expect(stream.error).toBeNull();
    expect(calls).toEqual([{ city: 'Tokyo' }]);
    expect(stream.finalOutput).toBe('It is 17°C in Tokyo.');
    expect(text).toBe('It is 17°C in Tokyo.');
    // One model response per turn, each streamed to its end.
    expect(rawTypes.filter((t) => t === 'response_started')).toHaveLength(2);
    expect(rawTypes.filter((t) => t === 'response_done')).toHaveLength(2);
    expect(runItems).toEqual(['tool_called', 'tool_output', 'message_output_created']);
    expect(chatRequests().every((r) => r.body.stream === true)).toBe(true);
  });

  it('chains runs with previousResponseId', async () => {
    const first = await run(agent, "What's the weather in Paris?");
    expect(first.finalOutput).toBe('It is 21°C in Paris.');
    const before = chatRequests().length;

    const second = await run(agent, 'And what did I ask you first?', { previousResponseId: first.lastResponseId });
    expect(second.finalOutput).toBe('You asked: And what did I ask you first?');
    expect(second.lastResponseId).not.toBe(first.lastResponseId);

    // The gateway rebuilt the whole conversation from the chain: the SDK sent only the new turn.
    const followUp = chatRequests()[before]!.body.messages as ChatMessage[];
    expect(followUp.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(followUp[1]).toEqual({ role: 'user', content: "What's the weather in Paris?" });
    expect(followUp[3]!.content).toBe(JSON.stringify({ city: 'Paris', tempC: 21 }));
    expect(followUp[4]).toEqual({ role: 'assistant', content: 'It is 21°C in Paris.' });
    expect(followUp[5]).toEqual({ role: 'user', content: 'And what did I ask you first?' });

    const client = new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch });
    const stored = await client.responses.retrieve(second.lastResponseId!);
    expect(stored.previous_response_id).toBe(first.lastResponseId);
  });

  it('a tool loop inside a chained, streamed run', async () => {
    const first = await run(agent, 'Hello there');
    expect(first.finalOutput).toBe('You asked: Hello there');
    const stream = await run(agent, "What's the weather in Tokyo?", { stream: true, previousResponseId: first.lastResponseId });
    for await (const _ of stream) { /* drain */ }
    await stream.completed;
    expect(stream.error).toBeNull();
    expect(calls).toEqual([{ city: 'Tokyo' }]);
    expect(stream.finalOutput).toBe('It is 17°C in Tokyo.');
    // The tool-output turn was chained to the tool-call turn by the SDK (previous_response_id).
    const last = chatRequests().at(-1)!.body.messages as ChatMessage[];
    expect(last.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'tool']);
  });

  it('keeps history in an OpenAIConversationsSession (the Conversations API) across runs', async () => {
    // The session stores items through /v1/conversations/{id}/items and reads them back for the next run.
    const session = new OpenAIConversationsSession();
    const first = await run(agent, "What's the weather in Paris?", { session });
    expect(first.finalOutput).toBe('It is 21°C in Paris.');
    const conversationId = await session.getSessionId();
    expect(conversationId).toMatch(/^conv_/);
    const before = chatRequests().length;

    const second = await run(agent, 'And what did I ask you first?', { session });
    expect(second.finalOutput).toBe('You asked: And what did I ask you first?');
    // The second run sent the first run's items, read from the conversation, then the new question.
    const followUp = chatRequests()[before]!.body.messages as ChatMessage[];
    expect(followUp.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(followUp[1]).toEqual({ role: 'user', content: "What's the weather in Paris?" });
    expect(followUp[3]!.content).toBe(JSON.stringify({ city: 'Paris', tempC: 21 }));
    expect(followUp[4]).toEqual({ role: 'assistant', content: 'It is 21°C in Paris.' });

    // Both runs' items are in the conversation, in order.
    const client = new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch });
    const items: any[] = [];
    for await (const item of client.conversations.items.list(conversationId, { order: 'asc' })) items.push(item);
    expect(items.map((i) => (i.type === 'message' ? `${i.role}` : i.type))).toEqual([
      'user', 'function_call', 'function_call_output', 'assistant', 'user', 'assistant',
    ]);
    expect((await session.getItems()).length).toBe(6);
    await session.clearSession();
    await expect(client.conversations.retrieve(conversationId)).rejects.toMatchObject({ status: 404 });
  });

  it('runs a tool loop in a server-side conversation (conversationId)', async () => {
    const client = new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch });
    const { id } = await client.conversations.create();
    const first = await run(agent, "What's the weather in Tokyo?", { conversationId: id });
    expect(first.finalOutput).toBe('It is 17°C in Tokyo.');
    const before = chatRequests().length;
    const second = await run(agent, 'Thanks!', { conversationId: id });
    expect(second.finalOutput).toBe('You asked: Thanks!');
    // The SDK sent only new items; the gateway supplied the rest from the conversation.
    const followUp = chatRequests()[before]!.body.messages as ChatMessage[];
    expect(followUp.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user']);
    const stored = await client.responses.retrieve(second.lastResponseId!);
    expect(stored.conversation).toEqual({ id });
    const items = await client.conversations.items.list(id, { order: 'asc' });
    expect(items.data.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_output', 'message', 'message', 'message']);
  });
});
