// ChatStreamTranslator as pure code: chunk shapes in, event lifecycle out; the SDK judges validity.
import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatToolCallDelta, FunctionCallItem, MessageItem, OutputText, StreamEvent } from '../../shared/protocol/types.ts';
import { validateWithSdk } from '../helpers/sdk-validate.ts';
import { baseResponse, newTranslator, NOW_MS, RESP_ID, translate, types } from './stream-fixtures.ts';

// The spec's chunk builders (_chunk, _usage_chunk).
const chunk = (delta: ChatChunk['choices'][0]['delta'], finish: string | null = null): ChatChunk =>
  ({ choices: [{ index: 0, delta, finish_reason: finish }], usage: null });
const text = (content: string, finish: string | null = null) => chunk({ content, tool_calls: null }, finish);
const tools = (...tool_calls: ChatToolCallDelta[]) => chunk({ content: null, tool_calls });
const usage = (p: number, c: number): ChatChunk => ({ choices: [], usage: { prompt_tokens: p, completion_tokens: c } });

const of = (events: StreamEvent[], type: string) => events.filter((e) => e.type === type);

describe('spec: TestTranslatedPath stream tests, as pure tests', () => {
  it('test_stream_event_sequence: Hel + lo, usage (3, 5)', async () => {
    const { events } = translate([text('Hel'), text('lo'), usage(3, 5)]);
    expect(events[0]!.type).toBe('response.created');
    expect(events.at(-1)!.type).toBe('response.completed');
    expect(of(events, 'response.output_text.delta').map((e) => e.delta).join('')).toBe('Hello');
    const completed = events.at(-1)!.response as { usage: { input_tokens: number; output_tokens: number; total_tokens: number } };
    expect(completed.usage).toMatchObject({ input_tokens: 3, output_tokens: 5, total_tokens: 8 });
    expect((await validateWithSdk(events)).output_text).toBe('Hello');
  });

  it('test_stream_tool_calls: arguments split across chunks, id and name only on the first', async () => {
    const { events } = translate([
      tools({ index: 0, id: 'call_1', function: { name: 'lookup', arguments: '{"q":' } }),
      tools({ index: 0, id: null, function: { name: null, arguments: '"hi"}' } }),
      usage(4, 2),
    ]);
    expect(types(events)).toContain('response.function_call_arguments.delta');
    expect(types(events)).toContain('response.function_call_arguments.done');
    expect(of(events, 'response.function_call_arguments.delta').map((e) => e.delta).join('')).toBe('{"q":"hi"}');
    const output = (events.at(-1)!.response as { output: FunctionCallItem[] }).output;
    const fc = output.find((i) => i.type === 'function_call')!;
    expect(fc).toMatchObject({ name: 'lookup', arguments: '{"q":"hi"}', call_id: 'call_1', status: 'completed' });
    expect(of(events, 'response.function_call_arguments.done')[0]).toMatchObject({ name: 'lookup', arguments: '{"q":"hi"}', item_id: fc.id, output_index: 0 });
    const final = await validateWithSdk(events);
    expect(final.output[0]).toMatchObject({ type: 'function_call', name: 'lookup', arguments: '{"q":"hi"}' });
  });
});

describe('ChatStreamTranslator', () => {
  it('emits every field OpenAI sends, ids matching across an item', () => {
    const { events } = translate([text('Hi', 'stop')]);
    const [added, part, delta, done, partDone, itemDone] = events.slice(2);
    const id = (added!.item as MessageItem).id;
    expect(id).toMatch(/^msg_/);
    expect(added).toEqual({ type: 'response.output_item.added', sequence_number: 2, output_index: 0, item: { type: 'message', id, status: 'in_progress', content: [], role: 'assistant' } });
    expect(part).toEqual({ type: 'response.content_part.added', sequence_number: 3, item_id: id, output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
    expect(delta).toEqual({ type: 'response.output_text.delta', sequence_number: 4, item_id: id, output_index: 0, content_index: 0, delta: 'Hi', logprobs: [] });
    expect(done).toEqual({ type: 'response.output_text.done', sequence_number: 5, item_id: id, output_index: 0, content_index: 0, text: 'Hi', logprobs: [] });
    expect(partDone).toMatchObject({ type: 'response.content_part.done', item_id: id, part: { type: 'output_text', text: 'Hi', annotations: [], logprobs: [] } });
    expect(itemDone).toMatchObject({ type: 'response.output_item.done', output_index: 0, item: { id, status: 'completed', content: [{ text: 'Hi' }] } });
  });

  it('lifecycle events carry the whole Response object, detached from later changes', () => {
    const base = baseResponse({ metadata: { k: 'v' }, instructions: 'be brief' });
    const t = newTranslator({ response: base });
    const [created] = t.created();
    const [inProgress] = t.inProgress();
    t.push(text('abc'));
    const end = t.end();
    const completed = end.at(-1)!.response as Record<string, unknown>;
    for (const ev of [created!, inProgress!]) {
      const r = ev.response as Record<string, unknown>;
      expect(Object.keys(r).sort()).toEqual(Object.keys(base).sort());
      expect(r).toMatchObject({ id: RESP_ID, status: 'in_progress', output: [], output_text: '', metadata: { k: 'v' }, instructions: 'be brief' });
    }
    expect(Object.keys(completed).sort()).toEqual(Object.keys(base).sort());
    expect(completed).toMatchObject({ status: 'completed', completed_at: NOW_MS / 1000, output_text: 'abc', error: null, incomplete_details: null });
    expect(base.output).toEqual([]); // the caller's object is not mutated
    expect(base.status).toBe('in_progress');
  });

  it('numbers events 0..n without gaps, or from nextSequence', () => {
    const { events } = translate([text('a'), tools({ index: 0, id: 'c', function: { name: 'f', arguments: '{}' } }), text('b', 'tool_calls')]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const t = newTranslator({ nextSequence: 7 });
    const evs = [...t.created(), ...t.inProgress(), ...t.push(text('x')), ...t.end()];
    expect(evs.map((e) => e.sequence_number)).toEqual(evs.map((_, i) => i + 7));
    expect(t.nextSequence).toBe(7 + evs.length);
  });

  it('opens with response.created and response.in_progress when the caller did not', () => {
    const t = newTranslator();
    expect(types(t.push(text('x'))).slice(0, 3)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added']);
  });

  it('queued() emits response.queued with status queued', () => {
    const t = newTranslator();
    const evs = [...t.created(), ...t.queued(), ...t.inProgress()];
    expect(evs.map((e) => [e.type, (e.response as { status: string }).status])).toEqual([
      ['response.created', 'in_progress'], ['response.queued', 'queued'], ['response.in_progress', 'in_progress'],
    ]);
  });

  it('emits nothing for role-only chunks, empty deltas and usage-only chunks', () => {
    const t = newTranslator();
    t.created();
    expect(t.push(chunk({ role: 'assistant', content: '' }))).toEqual([]);
    expect(t.push(chunk({ content: null, reasoning_content: '', tool_calls: [] }))).toEqual([]);
    expect(t.push(usage(1, 2))).toEqual([]);
    expect(t.push({ choices: [] })).toEqual([]);
    expect(t.response.output).toEqual([]);
  });

  it('runs parallel calls one after another, each closed before the next opens', async () => {
    const { events } = translate([
      tools({ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }),
      tools({ index: 0, function: { arguments: '{"x":' } }),
      tools({ index: 0, function: { arguments: '1}' } }),
      tools({ index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '' } }),
      tools({ index: 1, function: { arguments: '{}' } }),
      chunk({}, 'tool_calls'),
    ]);
    const final = await validateWithSdk(events);
    expect(final.output.map((i) => [(i as FunctionCallItem).call_id, (i as FunctionCallItem).name, (i as FunctionCallItem).arguments])).toEqual([
      ['call_a', 'f', '{"x":1}'], ['call_b', 'g', '{}'],
    ]);
    expect(types(events).indexOf('response.output_item.done')).toBeLessThan(types(events).lastIndexOf('response.output_item.added'));
  });

  it('waits for a name that comes after the first fragment, and announces the call with it', async () => {
    const { events } = translate([
      tools({ index: 0, id: 'call_x', function: { arguments: '{"a"' } }),
      tools({ index: 0, function: { name: 'late', arguments: ':1}' } }),
      chunk({}, 'tool_calls'),
    ]);
    expect(of(events, 'response.output_item.added')[0]!.item).toMatchObject({ name: 'late', call_id: 'call_x', arguments: '' });
    // What arrived before the name goes out as one delta, right after the announcement.
    expect(of(events, 'response.function_call_arguments.delta').map((e) => e.delta)).toEqual(['{"a":1}']);
    expect((await validateWithSdk(events)).output[0]).toMatchObject({ name: 'late', arguments: '{"a":1}' });
  });

  it('takes several whole calls in one chunk, and a new id at a reused index as a new call', async () => {
    const { events } = translate([
      tools(
        { index: 0, id: 'call_1', type: 'function', function: { name: 'a', arguments: '{}' } },
        { index: 1, id: 'call_2', type: 'function', function: { name: 'b', arguments: '{}' } },
      ),
      tools({ index: 0, id: 'call_3', type: 'function', function: { name: 'c', arguments: '{"n":3}' } }),
      chunk({}, 'tool_calls'),
    ]);
    const final = await validateWithSdk(events);
    expect(final.output.map((i) => (i as FunctionCallItem).call_id)).toEqual(['call_1', 'call_2', 'call_3']);
    expect(new Set(final.output.map((i) => i.id)).size).toBe(3);
  });

  it('gives a call without an upstream id a call_id of its own', () => {
    const { t } = translate([tools({ index: 0, function: { name: 'f', arguments: '{}' } }), chunk({}, 'tool_calls')]);
    expect((t.response.output[0] as FunctionCallItem).call_id).toMatch(/^call_\w{20,}$/);
  });

  it('text after a tool call, and a second text segment, get items of their own', async () => {
    const { events } = translate([
      text('Let me check.'),
      tools({ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }),
      text('\n\n'), // whitespace between items opens nothing
      text('Done'),
      text('.', 'stop'),
    ]);
    const final = await validateWithSdk(events);
    expect(final.output.map((i) => i.type)).toEqual(['message', 'function_call', 'message']);
    expect(final.output_text).toBe('Let me check.\n\nDone.');
    expect(final.output.every((i) => (i as MessageItem).status === 'completed')).toBe(true);
  });

  it('drops whitespace trailing a tool call instead of opening an empty-looking message', async () => {
    const { events } = translate([tools({ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }), text('\n', 'tool_calls')]);
    expect((await validateWithSdk(events)).output.map((i) => i.type)).toEqual(['function_call']);
  });

  it('keeps a whitespace-only answer', async () => {
    const { events } = translate([text(' '), text('', 'stop')]);
    expect((await validateWithSdk(events)).output_text).toBe(' ');
  });

  it('puts reasoning first, in its own item, from reasoning_content or reasoning (not both)', async () => {
    const { events } = translate([
      chunk({ reasoning_content: 'think', reasoning: 'think' }),
      chunk({ reasoning: 'ing' }),
      text('answer'),
      tools({ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }),
      chunk({}, 'tool_calls'),
    ]);
    expect(of(events, 'response.output_item.added')[0]!.item).toEqual({ type: 'reasoning', id: expect.stringMatching(/^rs_/), summary: [], content: [], status: 'in_progress' });
    expect(of(events, 'response.reasoning_text.delta')[0]).toMatchObject({ item_id: expect.stringMatching(/^rs_/), output_index: 0, content_index: 0, delta: 'think' });
    expect(of(events, 'response.reasoning_text.done')[0]).toMatchObject({ text: 'thinking' });
    const final = await validateWithSdk(events);
    expect(final.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(final.output[0]).toMatchObject({ content: [{ type: 'reasoning_text', text: 'thinking' }], status: 'completed' });
  });

  it('streams a refusal as a refusal part', async () => {
    const { events } = translate([chunk({ refusal: "I can't" }), chunk({ refusal: ' help.' }, 'stop')]);
    const final = await validateWithSdk(events);
    expect((final.output[0] as MessageItem).content).toMatchObject([{ type: 'refusal', refusal: "I can't help." }]);
  });

  it('finish_reason length -> response.incomplete, open items incomplete', async () => {
    const { events, t } = translate([text('cut sh', 'length'), usage(2, 2)]);
    expect(events.at(-1)!.type).toBe('response.incomplete');
    expect(t.finishReason).toBe('length');
    expect(t.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, completed_at: null });
    expect(of(events, 'response.output_item.done')[0]!.item).toMatchObject({ status: 'incomplete' });
    expect((await validateWithSdk(events)).status).toBe('incomplete');
  });

  it('finish_reason content_filter -> response.incomplete with reason content_filter', () => {
    const { events } = translate([text('x', 'content_filter')]);
    expect(events.at(-1)).toMatchObject({ type: 'response.incomplete', response: { incomplete_details: { reason: 'content_filter' } } });
  });

  it('fail() mid-stream: open items close incomplete, response.failed with the partial output, then nothing', async () => {
    const t = newTranslator();
    const events = [...t.created(), ...t.inProgress(), ...t.push(chunk({ reasoning_content: 'hmm' })), ...t.push(text('Hel'))];
    const failed = t.fail({ code: 'server_error', message: 'upstream died' });
    expect(types(failed)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.failed']);
    const last = failed.at(-1)!;
    expect(last.response).toMatchObject({
      status: 'failed', error: { code: 'server_error', message: 'upstream died' }, completed_at: null, output_text: 'Hel',
      output: [{ type: 'reasoning', status: 'completed' }, { type: 'message', status: 'incomplete', content: [{ text: 'Hel' }] }],
    });
    expect(t.finished).toBe(true);
    expect([...t.push(text('more')), ...t.end(), ...t.fail({ code: 'x', message: 'y' }), ...t.created(), ...t.inProgress()]).toEqual([]);
    const final = await validateWithSdk([...events, ...failed]);
    expect(final.status).toBe('failed');
    expect(final.output_text).toBe('Hel');
  });

  it('end({cut: true}) without a finish_reason fails; with one it completes', () => {
    const cut = translate([text('partial')], { cut: true }).events.at(-1)!;
    expect(cut).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error' }, output_text: 'partial' } });
    expect(translate([text('whole', 'stop')], { cut: true }).events.at(-1)!.type).toBe('response.completed');
    expect(translate([text('no finish reason, clean end')]).events.at(-1)!.type).toBe('response.completed');
  });

  it('end() is idempotent, and leaves usage null when the upstream never reported it', () => {
    const t = newTranslator();
    t.push(text('a'));
    const end = t.end();
    expect((end.at(-1)!.response as { usage: unknown }).usage).toBeNull();
    expect(t.end()).toEqual([]);
  });

  it('maps usage details', () => {
    const { t } = translate([text('a', 'stop'), { choices: [], usage: { prompt_tokens: 10, completion_tokens: 7, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 5 } } }]);
    expect(t.response.usage).toEqual({ input_tokens: 10, output_tokens: 7, total_tokens: 17, input_tokens_details: { cached_tokens: 4 }, output_tokens_details: { reasoning_tokens: 5 } });
  });

  it('response shows the partial output while streaming, as a copy', () => {
    const t = newTranslator();
    t.push(text('par'));
    t.push(text('tial'));
    const snap = t.response;
    expect(snap).toMatchObject({ status: 'in_progress', output_text: 'partial', output: [{ type: 'message', status: 'in_progress' }] });
    (snap.output[0] as MessageItem).content = [];
    expect(t.response.output_text).toBe('partial');
    // Changed in place, a snapshot's output (items, parts) changes neither the live one nor the next.
    const next = t.response;
    ((next.output[0] as MessageItem).content[0] as OutputText).text = 'changed';
    next.output.push({ type: 'message', id: 'msg_x', status: 'completed', role: 'assistant', content: [] });
    t.push(text('!'));
    expect(t.response).toMatchObject({ output_text: 'partial!', output: [{ content: [{ text: 'partial!' }] }] });
    expect(t.response.output).toHaveLength(1);
  });

  it('drops a fragment for a call already closed, keeping the stream valid', async () => {
    const { events } = translate([
      tools({ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }),
      text('between'),
      tools({ index: 0, function: { arguments: 'late' } }),
      chunk({}, 'stop'),
    ]);
    const final = await validateWithSdk(events);
    expect(final.output[0]).toMatchObject({ arguments: '{}' });
  });
});

describe('ChatStreamTranslator edge cases at the end', () => {
  it('still sends a call whose name never came, and accepts arguments sent as an object', async () => {
    const { events } = translate([
      tools({ index: 0, id: 'call_1', function: { arguments: '{"a":1}' } }),
      tools({ index: 1, id: 'call_2', function: { name: 'g', arguments: { b: 2 } as unknown as string } }),
      chunk({}, 'tool_calls'),
    ]);
    const final = await validateWithSdk(events);
    expect(final.output.map((i) => [(i as FunctionCallItem).call_id, (i as FunctionCallItem).name, (i as FunctionCallItem).arguments])).toEqual([
      ['call_2', 'g', '{"b":2}'], ['call_1', '', '{"a":1}'],
    ]);
  });
});
