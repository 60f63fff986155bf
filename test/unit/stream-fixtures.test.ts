// Recorded Ollama / vLLM / OpenAI streams replayed through shared/stream and judged by the real
// openai SDK's stream validation.
import { describe, expect, it } from 'vitest';
import type { FunctionCallItem, MessageItem, ReasoningItem } from '../../shared/protocol/types.ts';
import { validateWithSdk } from '../helpers/sdk-validate.ts';
import { chunksOf, fixture, framesOf, translate, types } from './stream-fixtures.ts';

function assertGapless(events: { sequence_number: number }[]) {
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
}

describe('Chat fixtures -> Responses events, validated by the openai SDK', () => {
  it('ollama-text', async () => {
    const { events, t } = translate(chunksOf('ollama-text.chunks.txt'));
    assertGapless(events);
    expect(types(events)).toEqual([
      'response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added',
      ...Array(7).fill('response.output_text.delta'),
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    const final = await validateWithSdk(events);
    expect(final.output_text).toBe('The capital of France is Paris.');
    expect(final.status).toBe('completed');
    expect(final.usage).toEqual({ input_tokens: 31, output_tokens: 8, total_tokens: 39, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } });
    expect(final.id).toBe(t.response.id);
  });

  it('ollama-tools: a whole call in one chunk', async () => {
    const { events } = translate(chunksOf('ollama-tools.chunks.txt'));
    assertGapless(events);
    const final = await validateWithSdk(events);
    expect(final.output).toHaveLength(1);
    const fc = final.output[0] as FunctionCallItem;
    expect(fc).toMatchObject({ type: 'function_call', call_id: 'call_abc123', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}', status: 'completed' });
    expect(fc.id).toMatch(/^fc_/);
    expect(final.usage?.input_tokens).toBe(182);
  });

  it('ollama-reasoning: delta.reasoning becomes a reasoning item before the message', async () => {
    const { events } = translate(chunksOf('ollama-reasoning.chunks.txt'));
    assertGapless(events);
    const final = await validateWithSdk(events);
    expect(final.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    const rs = final.output[0] as unknown as ReasoningItem;
    expect(rs.content).toEqual([{ type: 'reasoning_text', text: 'Okay, the user asks for 2 + 2. That is 4.' }]);
    expect(final.output_text).toBe('2 + 2 = **4**');
  });

  it('vllm-text', async () => {
    const { events } = translate(chunksOf('vllm-text.chunks.txt'));
    const final = await validateWithSdk(events);
    expect(final.output_text).toBe('Hello! How can I help you today?');
    expect(final.usage?.total_tokens).toBe(30);
  });

  it('vllm-tools-parallel: calls by index, fragments without id or name', async () => {
    const { events } = translate(chunksOf('vllm-tools-parallel.chunks.txt'));
    assertGapless(events);
    const final = await validateWithSdk(events);
    const calls = final.output as FunctionCallItem[];
    expect(calls.map((c) => [c.type, c.call_id, c.name, c.arguments, c.status])).toEqual([
      ['function_call', 'chatcmpl-tool-3f9a1c7e2b6d4e8a', 'get_weather', '{"city": "Paris"}', 'completed'],
      ['function_call', 'chatcmpl-tool-7c2e9b4a1f3d4c6e', 'get_weather', '{"city": "Berlin"}', 'completed'],
    ]);
    // One item open at a time, as OpenAI streams them.
    const lifecycle = events.filter((e) => e.type === 'response.output_item.added' || e.type === 'response.output_item.done').map((e) => `${e.type.slice(21)}:${e.output_index}`);
    expect(lifecycle).toEqual(['added:0', 'done:0', 'added:1', 'done:1']);
  });

  it('vllm-reasoning: reasoning_content, then the answer (whitespace between kept with it)', async () => {
    const { events } = translate(chunksOf('vllm-reasoning.chunks.txt'));
    const final = await validateWithSdk(events);
    expect(final.output.map((i) => i.type)).toEqual(['reasoning', 'message']);
    expect((final.output[0] as unknown as ReasoningItem).content?.[0]?.text).toBe('The user greets me. I should greet back.');
    expect(final.output_text).toBe('\n\nHi there!');
  });

  it('vllm-length: finish_reason length -> response.incomplete', async () => {
    const { events } = translate(chunksOf('vllm-length.chunks.txt'));
    expect(events.at(-1)!.type).toBe('response.incomplete');
    const final = await validateWithSdk(events);
    expect(final.status).toBe('incomplete');
    expect(final.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect((final.output[0] as MessageItem).status).toBe('incomplete');
    expect(final.output_text).toBe('Once upon a time, there was');
    expect(final.completed_at).toBeNull();
  });
});

describe('the SDK check itself', () => {
  it('rejects streams that break the lifecycle, so passing means something', async () => {
    const { events } = translate(chunksOf('ollama-text.chunks.txt'));
    await expect(validateWithSdk(events.filter((e) => e.type !== 'response.content_part.added'))).rejects.toThrow();
    await expect(validateWithSdk(events.map((e) => (e.type === 'response.output_text.delta' ? { ...e, item_id: 'msg_other' } : e)))).rejects.toThrow(/item_id/);
    await expect(validateWithSdk(events.filter((e) => e.type !== 'response.created'))).rejects.toThrow();
  });

  it('decodes the fixtures the same whatever the network chunking', () => {
    for (const name of ['vllm-tools-parallel.chunks.txt', 'openai-responses-text.sse.txt']) {
      expect(framesOf(fixture(name), 1)).toEqual(framesOf(fixture(name), 100_000));
    }
  });
});
