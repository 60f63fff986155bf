// responseToEvents: stored responses replayed as a stream the SDK accepts and rebuilds exactly.
import { describe, expect, it } from 'vitest';
import type { OutputItem, ResponseObject } from '../../shared/protocol/types.ts';
import { responseToEvents } from '../../shared/stream/index.ts';
import { streamWithSdk, validateWithSdk } from '../helpers/sdk-validate.ts';
import { baseResponse, chunksOf, translate, types } from './stream-fixtures.ts';

const usage = { input_tokens: 5, output_tokens: 6, total_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 2 } };

const msg = (id: string, text: string, status: 'completed' | 'incomplete' = 'completed'): OutputItem =>
  ({ type: 'message', id, status, role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] });
const call: OutputItem = { type: 'function_call', id: 'fc_000000000000000000000000000a', call_id: 'call_1', name: 'lookup', arguments: '{"q":"hi"}', status: 'completed' };
const reasoning: OutputItem = {
  type: 'reasoning', id: 'rs_000000000000000000000000000b',
  summary: [{ type: 'summary_text', text: 'Thought briefly.' }], content: [{ type: 'reasoning_text', text: 'step one' }], status: 'completed',
};

function finished(status: ResponseObject['status'], output: OutputItem[], extra: Partial<ResponseObject> = {}): ResponseObject {
  return baseResponse({ status, output, usage, completed_at: status === 'completed' ? 1_700_000_100 : null, ...extra });
}

/** The SDK's parse step adds `parsed`, `output_parsed`, `parsed_arguments`; compare the rest. */
const strip = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (k, v) => (['parsed', 'output_parsed', 'parsed_arguments'].includes(k) ? undefined : v)));

describe('responseToEvents', () => {
  it('replays a completed response: opening snapshots empty, the SDK rebuilds it exactly', async () => {
    const response = finished('completed', [reasoning, msg('msg_000000000000000000000000000c', 'Hello there'), call]);
    const events = responseToEvents(response);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(types(events).slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    for (const ev of events.slice(0, 2)) {
      expect(ev.response).toMatchObject({ id: response.id, status: 'in_progress', output: [], output_text: '', usage: null, completed_at: null });
    }
    expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { status: 'completed', output_text: 'Hello there' } });
    const final = await validateWithSdk(events);
    expect(strip(final)).toEqual(strip({ ...response, output_text: 'Hello there' }));
  });

  it('round-trips what the translator produced from a recorded stream', async () => {
    for (const name of ['vllm-reasoning.chunks.txt', 'vllm-tools-parallel.chunks.txt', 'ollama-text.chunks.txt']) {
      const { t } = translate(chunksOf(name));
      const stored = t.response;
      expect(strip(await validateWithSdk(responseToEvents(stored)))).toEqual(strip(stored));
    }
  });

  it('sends each part whole: one text delta, one arguments delta, summary and reasoning deltas', () => {
    const events = responseToEvents(finished('completed', [reasoning, msg('msg_1', 'abc'), call]));
    expect(types(events).slice(2, -1)).toEqual([
      'response.output_item.added',
      'response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta', 'response.reasoning_summary_text.done', 'response.reasoning_summary_part.done',
      'response.content_part.added', 'response.reasoning_text.delta', 'response.reasoning_text.done', 'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done',
    ]);
    expect(events.find((e) => e.type === 'response.function_call_arguments.done')).toMatchObject({ item_id: 'fc_000000000000000000000000000a', output_index: 2, name: 'lookup', arguments: '{"q":"hi"}' });
    expect(events.find((e) => e.type === 'response.output_text.delta')).toMatchObject({ item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'abc', logprobs: [] });
  });

  it('replays an incomplete response with response.incomplete', async () => {
    const response = finished('incomplete', [msg('msg_1', 'cut sh', 'incomplete')], { incomplete_details: { reason: 'max_output_tokens' } });
    const events = responseToEvents(response);
    expect(events.at(-1)!.type).toBe('response.incomplete');
    const final = await validateWithSdk(events);
    expect(final).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output_text: 'cut sh' });
  });

  it('replays a failed response with response.failed and its error', async () => {
    const response = finished('failed', [msg('msg_1', 'par', 'incomplete')], { error: { code: 'server_error', message: 'boom' } });
    const events = responseToEvents(response);
    expect(events.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'boom' } } });
    expect((await validateWithSdk(events)).status).toBe('failed');
  });

  it('ends a cancelled response with response.failed carrying status cancelled (no cancelled event exists)', async () => {
    const events = responseToEvents(finished('cancelled', []));
    expect(types(events)).toEqual(['response.created', 'response.in_progress', 'response.failed']);
    expect(events.at(-1)!.response).toMatchObject({ status: 'cancelled' });
    expect((await validateWithSdk(events)).status).toBe('cancelled');
  });

  it('opens with response.queued for background responses, and honours nextSequence', async () => {
    const events = responseToEvents(finished('completed', [msg('msg_1', 'x')], { background: true }), { queued: true, nextSequence: 10 });
    expect(events.slice(0, 3).map((e) => [e.type, (e.response as ResponseObject).status])).toEqual([
      ['response.created', 'queued'], ['response.queued', 'queued'], ['response.in_progress', 'in_progress'],
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i + 10));
    expect((await validateWithSdk(events)).output_text).toBe('x');
  });

  it('replays annotations and refusals', async () => {
    const annotation = { type: 'url_citation', url: 'https://example.com', title: 'Example', start_index: 0, end_index: 4 };
    const response = finished('completed', [{
      type: 'message', id: 'msg_1', status: 'completed', role: 'assistant',
      content: [{ type: 'output_text', text: 'see this', annotations: [annotation], logprobs: [] }, { type: 'refusal', refusal: 'no more' }],
    }]);
    const { response: final, events } = await streamWithSdk(responseToEvents(response));
    expect(events.some((e) => e.type === 'response.output_text.annotation.added')).toBe(true);
    expect(strip(final.output)).toEqual(strip(response.output));
  });

  it('replays items of other types whole, and a response still running without a terminal event', async () => {
    const search = { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'q' } };
    const done = responseToEvents(finished('completed', [search, msg('msg_1', 'found')]));
    expect((await validateWithSdk(done)).output[0]).toMatchObject(search);
    const running = responseToEvents(finished('in_progress', [msg('msg_1', 'so far')]));
    expect(running.at(-1)!.type).toBe('response.output_item.done');
  });
});
