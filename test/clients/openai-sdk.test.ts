// The official openai v7 SDK pointed at the gateway, over an Ollama-style backend and over a
// native OpenAI-style backend alike: every helper a user reaches for.
import OpenAI from 'openai';
import { conformingFetch } from '../helpers/conformance.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type System } from '../helpers/harness.ts';

let sys: System;
let client: OpenAI;

beforeAll(async () => {
  sys = await startSystem({ upstreams: [{ flavor: 'ollama', models: ['llama3.2:latest'] }, { flavor: 'openai', models: ['gpt-4o-mini'] }] });
  client = new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch });
});
afterAll(() => sys.close());

const backends = [
  { name: 'ollama-style backend', model: 'llama3.2', upstream: () => sys.upstreams[0]! },
  { name: 'native OpenAI-style backend', model: 'gpt-4o-mini', upstream: () => sys.upstreams[1]! },
];

describe.each(backends)('openai SDK over $name', ({ model, upstream }) => {
  it('responses.create', async () => {
    upstream().script({ text: 'Hello from the model', usage: { prompt: 5, completion: 4 } });
    const res = await client.responses.create({ model, input: 'Say hello' });
    expect(res.status).toBe('completed');
    expect(res.output_text).toBe('Hello from the model');
    expect(res.usage).toMatchObject({ input_tokens: 5, output_tokens: 4, total_tokens: 9 });
  });

  it('responses.create with stream: true', async () => {
    upstream().script({ deltas: ['One', ' two', ' three'] });
    const stream = await client.responses.create({ model, input: 'count', stream: true });
    const types: string[] = [];
    let text = '';
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') final = event.response;
    }
    expect(text).toBe('One two three');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(final?.output_text ?? final?.output.flatMap((o: any) => o.content ?? []).map((c: any) => c.text).join('')).toBe('One two three');
  });

  it('responses.stream() accumulates a valid final response', async () => {
    upstream().script({ deltas: ['Str', 'eamed'] });
    const stream = client.responses.stream({ model, input: 'stream please' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('Streamed');
    expect(final.output_text).toBe('Streamed');
    expect(final.status).toBe('completed');
    // Stored: retrievable afterwards with the same content.
    const got = await client.responses.retrieve(final.id);
    expect(got.output_text).toBe('Streamed');
    expect(got.status).toBe('completed');
  });

  it('responses.stream() over a function call', async () => {
    upstream().script({ toolCalls: [{ id: 'call_w', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const final = await client.responses
      .stream({ model, input: 'weather?', tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }] })
      .finalResponse();
    const call = final.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'call_w' });
  });

  it('responses.retrieve, chaining, inputItems.list and delete', async () => {
    upstream().script({ text: 'first answer' });
    const first = await client.responses.create({ model, input: 'first question' });
    upstream().script({ text: 'second answer' });
    const second = await client.responses.create({ model, input: [{ role: 'user', content: 'second question' }], previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);

    const got = await client.responses.retrieve(second.id);
    expect(got.output_text).toBe('second answer');

    const items = [];
    for await (const item of client.responses.inputItems.list(second.id)) items.push(item);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'second question' }] });

    const deleted = await client.responses.delete(second.id);
    // Typed void by the SDK, but the body is OpenAI's deletion object.
    expect(deleted as unknown).toEqual({ id: second.id, object: 'response', deleted: true });
    await expect(client.responses.retrieve(second.id)).rejects.toMatchObject({ status: 404 });
  });

  it('retrieve(id, {stream: true}) replays a stored response from response.created', async () => {
    upstream().script({ text: 'replay me' });
    const created = await client.responses.create({ model, input: 'x' });
    const stream = await client.responses.retrieve(created.id, { stream: true });
    const types: string[] = [];
    let text = '';
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.output_text.delta') text += e.delta;
    }
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(text).toBe('replay me');
  });

  it('errors arrive as OpenAI APIError with the envelope', async () => {
    await expect(client.responses.create({ model: 'no-such-model', input: 'x' })).rejects.toMatchObject({
      status: 404,
      param: 'model',
      message: expect.stringContaining('no-such-model'),
    });
    await expect(client.responses.create({ model, input: 'x', previous_response_id: 'resp_0000000000000000000000000000dead' })).rejects.toMatchObject({
      status: 404,
      param: 'previous_response_id',
    });
  });
});
