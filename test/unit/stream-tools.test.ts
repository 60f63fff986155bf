// Streams of Chat tool calls for custom and namespaced tools: a custom tool's call streams as a
// custom_tool_call whose input is decoded from `{"input": ...}` as the fragments come
// (response.custom_tool_call_input.delta/.done); a namespaced function comes back under its own
// name with its namespace. The openai SDK's strict stream parser judges every stream.
import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatToolCallDelta, StreamEvent } from '../../shared/protocol/types.ts';
import { ChatStreamTranslator, NativeStreamRewriter, responseToEvents } from '../../shared/stream/index.ts';
import { CustomInputDecoder } from '../../shared/stream/custom-input.ts';
import { planTools } from '../../shared/translate/index.ts';
import { streamProblems } from '../helpers/conformance.ts';
import { streamWithSdk } from '../helpers/sdk-validate.ts';
import { baseResponse, counterIds, NOW_MS } from './stream-fixtures.ts';

const PLAN = planTools([
  { type: 'function', name: 'exec_command', parameters: { type: 'object' } },
  { type: 'custom', name: 'apply_patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: x' } },
  { type: 'namespace', name: 'multi_agent_v1', description: '', tools: [{ type: 'function', name: 'spawn_agent' }] },
  { type: 'web_search' },
]);
const PATCH = '*** Begin Patch\n*** Add File: "quoted" \\ path\n+héllo 🎉\n*** End Patch\n';
const ARGS = JSON.stringify({ input: PATCH });

const calls = (...tool_calls: ChatToolCallDelta[]): ChatChunk => ({ choices: [{ index: 0, delta: { content: null, tool_calls }, finish_reason: null }] });
const finish: ChatChunk = { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 5, completion_tokens: 9 } };

function run(chunks: ChatChunk[]): StreamEvent[] {
  const t = new ChatStreamTranslator({ response: baseResponse(), newId: counterIds(), now: () => NOW_MS, tools: PLAN });
  const events = [...t.created(), ...t.inProgress()];
  for (const c of chunks) events.push(...t.push(c));
  events.push(...t.end());
  expect(streamProblems(events)).toEqual([]);
  return events;
}

const of = (events: StreamEvent[], type: string) => events.filter((e) => e.type === type);

/** `s` in pieces of `size` characters (a vLLM-style argument stream). */
const pieces = (s: string, size: number) => Array.from({ length: Math.ceil(s.length / size) }, (_, i) => s.slice(i * size, i * size + size));

describe('a custom tool call, streamed', () => {
  it.each([1, 3, 7, 64])('decodes the input as the arguments come, %i characters at a time', async (size) => {
    const [first, ...rest] = pieces(ARGS, size);
    const events = run([
      calls({ index: 0, id: 'call_p', type: 'function', function: { name: 'apply_patch', arguments: first! } }),
      ...rest.map((a) => calls({ index: 0, function: { arguments: a } })),
      finish,
    ]);
    const deltas = of(events, 'response.custom_tool_call_input.delta');
    if (size < ARGS.length) expect(deltas.length).toBeGreaterThan(1); // incremental, not one delta at the end
    expect(deltas.map((e) => e.delta).join('')).toBe(PATCH);
    const [done] = of(events, 'response.custom_tool_call_input.done');
    expect(done).toMatchObject({ input: PATCH, output_index: 0 });
    expect(of(events, 'response.function_call_arguments.delta')).toEqual([]);
    const item = { type: 'custom_tool_call', call_id: 'call_p', name: 'apply_patch', input: PATCH, status: 'completed' };
    expect(of(events, 'response.output_item.done')[0]!.item).toMatchObject(item);
    expect(of(events, 'response.output_item.added')[0]!.item).toMatchObject({ ...item, input: '', status: 'in_progress' });

    const sdk = await streamWithSdk(events);
    expect(sdk.response.output[0]).toMatchObject(item);
    expect(sdk.events.map((e) => e.type)).toContain('response.custom_tool_call_input.delta');
  });

  it('takes a whole call in one chunk (Ollama), after text, with a namespaced call next to it', async () => {
    const events = run([
      { choices: [{ index: 0, delta: { content: 'Patching.' }, finish_reason: null }] },
      calls({ index: 0, id: 'call_p', type: 'function', function: { name: 'apply_patch', arguments: ARGS } }),
      calls({ index: 1, id: 'call_s', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: '{"task":"t"}' } }),
      finish,
    ]);
    const { response } = await streamWithSdk(events);
    expect(response.output.map((o) => o.type)).toEqual(['message', 'custom_tool_call', 'function_call']);
    expect(response.output[1]).toMatchObject({ type: 'custom_tool_call', input: PATCH });
    expect(response.output[2]).toMatchObject({ type: 'function_call', namespace: 'multi_agent_v1', name: 'spawn_agent', arguments: '{"task":"t"}', call_id: 'call_s' });
    expect((response.output[1] as { id: string }).id).toMatch(/^ctc_/);
  });

  it('sends a model that ignored the JSON shape its raw text, at the end', async () => {
    const events = run([calls({ index: 0, id: 'c', type: 'function', function: { name: 'apply_patch', arguments: '*** Begin' } }), calls({ index: 0, function: { arguments: ' Patch' } }), finish]);
    expect(of(events, 'response.custom_tool_call_input.delta').map((e) => e.delta)).toEqual(['*** Begin Patch']);
    expect((await streamWithSdk(events)).response.output[0]).toMatchObject({ input: '*** Begin Patch' });
  });

  it('ends a cut stream with the custom call closed as incomplete', async () => {
    const t = new ChatStreamTranslator({ response: baseResponse(), newId: counterIds(), now: () => NOW_MS, tools: PLAN });
    const events = [...t.created(), ...t.inProgress(), ...t.push(calls({ index: 0, id: 'c', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"ab' } }))];
    events.push(...t.end({ cut: true }));
    expect(streamProblems(events)).toEqual([]);
    expect(events.at(-1)!.type).toBe('response.failed');
    expect(of(events, 'response.custom_tool_call_input.done')[0]).toMatchObject({ input: 'ab' });
    expect(of(events, 'response.output_item.done')[0]!.item).toMatchObject({ type: 'custom_tool_call', input: 'ab', status: 'incomplete' });
  });
});

describe('CustomInputDecoder', () => {
  it('decodes escapes split anywhere, and holds a surrogate half back', () => {
    const text = 'a"b\\c\n\t\u00e9\u{1F389}/end';
    const json = JSON.stringify({ input: text }).replace('é', '\\u00e9').replace('🎉', '\\ud83c\\udf89');
    for (let size = 1; size <= 8; size++) {
      const d = new CustomInputDecoder();
      let out = '';
      for (const p of pieces(json, size)) {
        const got = d.push(p);
        expect(/[\ud800-\udbff]$/.test(got), `no lone high surrogate at the end of a delta (size ${size})`).toBe(false);
        out += got;
      }
      expect(out).toBe(text);
      expect(d.finish()).toEqual({ input: text, rest: '' });
    }
  });

  it('streams nothing for another shape and decodes it whole at the end', () => {
    const d = new CustomInputDecoder();
    expect(d.push('{"patch": "x"')).toBe('');
    expect(d.push('}')).toBe('');
    expect(d.finish()).toEqual({ input: 'x', rest: 'x' });
  });
});

describe('custom tool calls on the native path and in replays', () => {
  const upstreamItem = { type: 'custom_tool_call', id: 'ctc_upstream1', call_id: 'call_u', name: 'apply_patch', input: '', status: 'in_progress' };
  const frames = [
    { data: { type: 'response.created', sequence_number: 0, response: { id: 'resp_up', status: 'in_progress', output: [] } } },
    { data: { type: 'response.output_item.added', sequence_number: 1, output_index: 0, item: upstreamItem } },
    { data: { type: 'response.custom_tool_call_input.delta', sequence_number: 2, output_index: 0, item_id: 'ctc_upstream1', delta: '*** Begin' } },
  ];

  it('passes them through under our ids, and closes one cut off mid-input', async () => {
    const rw = new NativeStreamRewriter({ response: baseResponse(), newId: counterIds(), now: () => NOW_MS });
    const events = frames.flatMap((f) => rw.push(f));
    events.push(...rw.end());
    expect(streamProblems(events)).toEqual([]);
    const added = of(events, 'response.output_item.added')[0]!;
    expect((added.item as { id: string }).id).toMatch(/^ctc_/);
    expect(of(events, 'response.custom_tool_call_input.delta')[0]!.item_id).toBe((added.item as { id: string }).id);
    expect(of(events, 'response.custom_tool_call_input.done')[0]).toMatchObject({ input: '*** Begin' });
    expect(events.at(-1)!.type).toBe('response.failed');
  });

  it('replays a stored custom tool call as its events', async () => {
    const response = {
      ...baseResponse(), status: 'completed' as const, completed_at: 1,
      output: [{ type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_1', namespace: 'ns', name: 'apply_patch', input: PATCH, status: 'completed' }],
    };
    const events = responseToEvents(response);
    expect(streamProblems(events)).toEqual([]);
    expect(of(events, 'response.custom_tool_call_input.delta').map((e) => e.delta)).toEqual([PATCH]);
    expect((await streamWithSdk(events)).response.output[0]).toMatchObject({ type: 'custom_tool_call', input: PATCH, namespace: 'ns' });
  });
});
