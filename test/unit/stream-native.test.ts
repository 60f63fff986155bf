// NativeStreamRewriter / rewriteNativeResponse: an OpenAI stream passed through under our ids.
import { describe, expect, it } from 'vitest';
import type { JsonObject, ResponseObject, StreamEvent } from '../../shared/protocol/types.ts';
import { NativeStreamRewriter, rewriteNativeResponse } from '../../shared/stream/index.ts';
import { validateWithSdk } from '../helpers/sdk-validate.ts';
import { baseResponse, counterIds, nativeFramesOf, RESP_ID, types } from './stream-fixtures.ts';

const OUR_FIELDS = {
  store: true, background: false, previous_response_id: 'resp_prev0000000000000000000000000000',
  metadata: { team: 'a' }, instructions: 'be brief', user: 'u-1', prompt_cache_key: 'k1', safety_identifier: 'sid',
};

const rewriter = (opts: { nextSequence?: number; response?: ResponseObject } = {}) =>
  new NativeStreamRewriter({ response: opts.response ?? baseResponse(OUR_FIELDS), nextSequence: opts.nextSequence, newId: counterIds(), now: () => 1_700_000_500_000 });

function run(frames: Array<{ event?: string; data: JsonObject }>, r = rewriter()): { events: StreamEvent[]; r: NativeStreamRewriter } {
  const events = frames.flatMap((f) => r.push(f));
  events.push(...r.end());
  return { events, r };
}

/** Every id the upstream chose for a response or item (call ids are the client's handles: kept). */
function upstreamIds(frames: Array<{ data: JsonObject }>): string[] {
  const text = frames.map((f) => JSON.stringify(f.data)).join('\n');
  return [...new Set(text.match(/\b(resp|msg|fc|rs)_[0-9a-f]{20,}\b/g) ?? [])];
}

describe('NativeStreamRewriter over a recorded OpenAI stream', () => {
  it('text: ids ours, sequence renumbered, our fields overlaid, upstream fields kept, SDK-valid', async () => {
    const frames = nativeFramesOf('openai-responses-text.sse.txt');
    const { events, r } = run(frames);
    const serialized = JSON.stringify(events);
    const ids = upstreamIds(frames);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect(serialized).not.toContain(id);

    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(types(events)).toEqual(frames.map((f) => f.data.type));
    for (const ev of events.filter((e) => e.response)) {
      expect(ev.response).toMatchObject({ id: RESP_ID, ...OUR_FIELDS, created_at: 1_700_000_000, model: 'gpt-4.1-mini-2025-04-14' });
    }
    const completed = events.at(-1)!.response as ResponseObject;
    expect(completed).toMatchObject({ status: 'completed', completed_at: 1755377859, output_text: 'Hi! How can I help?', usage: { input_tokens: 9, output_tokens: 8, total_tokens: 17 } });
    const msgId = (completed.output[0] as { id: string }).id;
    expect(msgId).toMatch(/^msg_/);
    for (const ev of events.filter((e) => 'item_id' in e)) expect(ev.item_id).toBe(msgId);
    expect(events.find((e) => e.type === 'response.output_text.delta')).toHaveProperty('obfuscation'); // passed through untouched

    expect(r.finished).toBe(true);
    expect(r.response).toMatchObject({ id: RESP_ID, status: 'completed', output_text: 'Hi! How can I help?' });
    const final = await validateWithSdk(events);
    expect(final).toMatchObject({ id: RESP_ID, output_text: 'Hi! How can I help?', store: true, metadata: { team: 'a' } });
  });

  it('reasoning + function call: rs_ / fc_ by item type, consistent everywhere, call_id and encrypted content kept', async () => {
    const frames = nativeFramesOf('openai-responses-tools.sse.txt');
    const { events } = run(frames);
    const serialized = JSON.stringify(events);
    for (const id of upstreamIds(frames)) expect(serialized).not.toContain(id);
    const completed = events.at(-1)!.response as ResponseObject;
    const [rs, fc] = completed.output as Array<{ id: string; type: string; call_id?: string; encrypted_content?: string }>;
    expect(rs!.id).toMatch(/^rs_/);
    expect(rs!.encrypted_content).toMatch(/^gAAAA/);
    expect(fc!.id).toMatch(/^fc_/);
    expect(fc!.call_id).toBe('call_Xy7TqL2mNp9RsV4wKb1cZd8e');
    const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => (e.item as { id: string }).id);
    expect(added).toEqual([rs!.id, fc!.id]);
    for (const ev of events.filter((e) => e.type.startsWith('response.function_call_arguments.'))) expect(ev.item_id).toBe(fc!.id);
    const final = await validateWithSdk(events);
    expect(final.output[1]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(final.usage?.output_tokens_details.reasoning_tokens).toBe(64);
  });

  it('honours nextSequence', () => {
    const { events } = run(nativeFramesOf('openai-responses-text.sse.txt'), rewriter({ nextSequence: 3 }));
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i + 3));
  });

  it('spec test_stream_passthrough: the completed response id is ours (and the sloppy stream is made valid)', async () => {
    const frames = [
      { data: { type: 'response.created', response: { id: 'resp_openai', status: 'in_progress', output: [] } } },
      { data: { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, delta: 'hi' } },
      { data: { type: 'response.completed', response: {
        id: 'resp_openai', status: 'completed',
        output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hi' }] }],
        usage: { input_tokens: 2, output_tokens: 1, total_tokens: 3 } } } },
    ];
    const { events } = run(frames);
    const completed = events.find((e) => e.type === 'response.completed')!.response as ResponseObject;
    expect(completed.id.startsWith('resp_')).toBe(true);
    expect(completed.id).not.toBe('resp_openai');
    expect(JSON.stringify(events)).not.toMatch(/resp_openai|"msg_1"/);
    // The missing announcements were added; every Response field is present.
    expect(types(events)).toEqual(['response.created', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.completed']);
    expect(Object.keys(completed).sort()).toEqual(Object.keys(baseResponse()).sort());
    expect(completed.completed_at).toBe(1_700_000_500);
    const final = await validateWithSdk(events);
    expect(final.output_text).toBe('hi');
  });

  it('an upstream error event becomes response.failed, with open items closed and nothing after', async () => {
    const frames = nativeFramesOf('openai-responses-text.sse.txt').slice(0, 6); // created .. two deltas
    const r = rewriter();
    const events = frames.flatMap((f) => r.push(f));
    const failed = r.push({ event: 'error', data: { type: 'error', code: 'rate_limit_exceeded', message: 'slow down', param: null, sequence_number: 6 } });
    // The open part is closed before its item (as the chat translator does), then the item.
    expect(types(failed)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.failed']);
    expect(failed[0]).toMatchObject({ text: 'Hi!', content_index: 0, output_index: 0 });
    expect(failed[1]!.part).toMatchObject({ type: 'output_text', text: 'Hi!' });
    expect(failed.at(-1)!.response).toMatchObject({ id: RESP_ID, status: 'failed', error: { code: 'rate_limit_exceeded', message: 'slow down' }, output_text: 'Hi!' });
    expect(failed[2]!.item).toMatchObject({ status: 'incomplete', content: [{ text: 'Hi!' }] });
    expect([...r.push(frames[0]!), ...r.end(), ...r.fail({ code: 'x', message: 'y' })]).toEqual([]);
    const all = [...events, ...failed];
    expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, i) => i));
    expect((await validateWithSdk(all)).status).toBe('failed');
  });

  it('an upstream that stops before its terminal event fails with server_error on end()', async () => {
    const frames = nativeFramesOf('openai-responses-text.sse.txt').slice(0, 7);
    const r = rewriter();
    const events = frames.flatMap((f) => r.push(f));
    expect(r.response).toMatchObject({ status: 'in_progress', output_text: 'Hi! How' });
    const end = r.end({ cut: true });
    expect(end.at(-1)).toMatchObject({ type: 'response.failed', response: { error: { code: 'server_error', message: 'upstream stream ended before the response completed' } } });
    expect((await validateWithSdk([...events, ...end])).output_text).toBe('Hi! How');
  });

  it('fails with response.created first when nothing came from the upstream', async () => {
    const r = rewriter();
    const events = r.fail({ code: 'server_error', message: 'connect failed' });
    expect(types(events)).toEqual(['response.created', 'response.failed']);
    expect((await validateWithSdk(events)).status).toBe('failed');
  });

  it('after the terminal event, end() adds nothing', () => {
    const { events, r } = run(nativeFramesOf('openai-responses-text.sse.txt'));
    expect(events.at(-1)!.type).toBe('response.completed');
    expect(r.end()).toEqual([]);
  });
});

describe('rewriteNativeResponse (non-stream path)', () => {
  it('spec test_nonstream_passthrough_rewrites_id', () => {
    const up = {
      id: 'resp_openai', status: 'completed',
      output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'native hi' }] }],
      usage: { input_tokens: 2, output_tokens: 3, total_tokens: 5 },
    };
    const res = rewriteNativeResponse(up, baseResponse(OUR_FIELDS), counterIds());
    expect(res.output_text).toBe('native hi');
    expect(res.id).toBe(RESP_ID);
    expect(res).toMatchObject({ ...OUR_FIELDS, status: 'completed', usage: up.usage, model: 'test-model' });
    expect((res.output[0] as { id: string }).id).toMatch(/^msg_/);
  });

  it('maps item ids by type, keeps upstream-only fields, takes model from upstream', () => {
    const up = {
      id: 'resp_up', object: 'response', model: 'gpt-4.1', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' },
      store: false, metadata: {}, billing: { payer: 'developer' },
      output: [
        { id: 'rs_up', type: 'reasoning', summary: [] },
        { id: 'fc_up', type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}', status: 'completed' },
        { id: 'ws_up', type: 'web_search_call', status: 'completed' },
      ],
    };
    const res = rewriteNativeResponse(up, baseResponse(OUR_FIELDS));
    expect(res.output.map((i) => (i as { id: string }).id.split('_')[0])).toEqual(['rs', 'fc', 'item']);
    expect(JSON.stringify(res)).not.toMatch(/_up"/);
    expect(res).toMatchObject({ model: 'gpt-4.1', store: true, status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, billing: { payer: 'developer' } });
  });
});
