import { describe, expect, it } from 'vitest';
import { cachedEvents, servedFromCache } from '../../shared/cache/serve.ts';
import { newResponseObject } from '../../shared/protocol/response.ts';
import type { OutputItem } from '../../shared/protocol/types.ts';
import { validateWithSdk } from '../helpers/sdk-validate.ts';

const usage = { input_tokens: 5, output_tokens: 6, total_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 2 } };
const output: OutputItem[] = [
  { type: 'reasoning', id: 'rs_old', summary: [{ type: 'summary_text', text: 'think' }] },
  { type: 'message', id: 'msg_old', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'from-cache', annotations: [], logprobs: [] }] },
  { type: 'function_call', id: 'fc_old', call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}', status: 'completed' },
];
const cached = newResponseObject({ id: 'resp_old', model: 'm-2025', createdAt: 1000, output, usage, request: { model: 'm', metadata: { old: '1' } } });
const base = newResponseObject({
  id: 'resp_new', model: 'm', createdAt: 2000, status: 'in_progress',
  request: { model: 'm', metadata: { run: '2' }, store: false, previous_response_id: 'resp_prev' },
});

describe('servedFromCache', () => {
  const served = servedFromCache(cached, base);

  it('is this request\'s response with the cached output and usage', () => {
    expect(served).toMatchObject({
      id: 'resp_new', created_at: 2000, completed_at: 2000, status: 'completed', model: 'm-2025',
      metadata: { run: '2' }, store: false, previous_response_id: 'resp_prev', usage, output_text: 'from-cache', error: null,
    });
    expect(served.output.map((i) => i.type)).toEqual(['reasoning', 'message', 'function_call']);
    const strip = (items: OutputItem[]) => items.map(({ id: _id, ...rest }) => rest);
    expect(strip(served.output)).toEqual(strip(output));
  });

  it('gives every item a new id of its kind', () => {
    const ids = served.output.map((i) => i.id as string);
    expect(ids[0]).toMatch(/^rs_[0-9a-f]{32}$/);
    expect(ids[1]).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(ids[2]).toMatch(/^fc_[0-9a-f]{32}$/);
    const again = servedFromCache(cached, base).output.map((i) => i.id);
    expect(again.some((id) => ids.includes(id as string))).toBe(false);
  });

  it('streams as the full lifecycle the openai SDK accepts', async () => {
    const events = cachedEvents(served);
    expect(events[0]!.type).toBe('response.created');
    expect(events.at(-1)!.type).toBe('response.completed');
    const final = await validateWithSdk(events);
    expect(final.output_text).toBe('from-cache');
    expect(final.output.map((i) => i.id)).toEqual(served.output.map((i) => i.id));
  });
});
