import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, historyFingerprint, type CacheKeyParts } from '../../shared/cache/key.ts';
import type { CreateRequest } from '../../shared/protocol/request-fields.ts';

const tool = { type: 'function', name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } };
const request: CreateRequest = {
  model: 'm',
  input: 'ignored: the resolved input is keyed',
  instructions: 'be brief',
  tools: [tool],
  tool_choice: 'auto',
  text: { format: { type: 'text' } },
  temperature: 0.5,
  top_p: 0.9,
  max_output_tokens: 100,
  max_tool_calls: 3,
  parallel_tool_calls: true,
  reasoning: { effort: 'low' },
  top_logprobs: 0,
  truncation: 'disabled',
  include: [],
};
const parts: CacheKeyParts = {
  route: 'openai_responses',
  principal: 'alice',
  request,
  input: [
    { type: 'message', id: 'msg_1', status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hello', annotations: [] }] },
    { type: 'message', id: 'msg_2', status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'again' }] },
  ],
};
const key = cacheKey(parts);
const withRequest = (change: Partial<CreateRequest>) => cacheKey({ ...parts, request: { ...request, ...change } });

describe('cacheKey', () => {
  it('is a sha256 hex digest and deterministic', () => {
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey(structuredClone(parts))).toBe(key);
  });

  it.each<[string, Partial<CreateRequest>]>([
    ['model', { model: 'other' }],
    ['instructions', { instructions: 'be verbose' }],
    ['tools', { tools: [{ ...tool, name: 'search' }] }],
    ['tools (none)', { tools: [] }],
    ['tool_choice', { tool_choice: 'required' }],
    ['text format', { text: { format: { type: 'json_object' } } }],
    ['temperature', { temperature: 0.6 }],
    ['top_p', { top_p: 1 }],
    ['max_output_tokens', { max_output_tokens: 101 }],
    ['max_tool_calls', { max_tool_calls: 4 }],
    ['parallel_tool_calls', { parallel_tool_calls: false }],
    ['reasoning effort', { reasoning: { effort: 'high' } }],
    ['reasoning summary', { reasoning: { effort: 'low', summary: 'auto' } }],
    ['top_logprobs', { top_logprobs: 2 }],
    ['truncation', { truncation: 'auto' }],
    ['include', { include: ['reasoning.encrypted_content'] }],
    ['a field we do not know', { prompt: { id: 'pmpt_1' } }],
    // The history's anchor: the key is known before the history is read (its fingerprint is checked after).
    ['previous_response_id', { previous_response_id: 'resp_1' }],
    ['conversation', { conversation: 'conv_1' }],
  ])('changes with %s', (_name, change) => {
    expect(withRequest(change)).not.toBe(key);
  });

  it('changes with the route and the principal (null: shared)', () => {
    expect(cacheKey({ ...parts, route: 'openai_chat' })).not.toBe(key);
    expect(cacheKey({ ...parts, principal: 'bob' })).not.toBe(key);
    expect(cacheKey({ ...parts, principal: null })).not.toBe(key);
  });

  it('changes with any input content, history included', () => {
    const edit = (fn: (input: any[]) => void) => {
      const input = structuredClone(parts.input) as any[];
      fn(input);
      return cacheKey({ ...parts, input });
    };
    expect(edit((i) => { i[2].content[0].text = 'Again'; })).not.toBe(key);
    expect(edit((i) => { i[1].content[0].text = 'hello!'; })).not.toBe(key); // an earlier turn
    expect(edit((i) => { i.shift(); })).not.toBe(key);
    expect(edit((i) => { i.reverse(); })).not.toBe(key);
    expect(edit((i) => { i[0].role = 'developer'; })).not.toBe(key);
  });

  it('ignores item ids and statuses (ours are random per request)', () => {
    const input = parts.input.map((item, n) => ({ ...item, id: `msg_other${n}`, status: 'in_progress' }));
    expect(cacheKey({ ...parts, input })).toBe(key);
    expect(cacheKey({ ...parts, input: parts.input.map(({ id: _i, status: _s, ...rest }) => rest) })).toBe(key);
  });

  it('ignores fields that do not decide the answer', () => {
    expect(withRequest({
      input: 'other', stream: true, store: false, metadata: { a: 'b' }, user: 'u', safety_identifier: 's',
      prompt_cache_key: 'p', service_tier: 'flex', nomyo: { cache: true }, stream_options: {},
    })).toBe(key);
  });

  it('treats null as absent (the API default)', () => {
    expect(withRequest({ user: null, temperature: null })).toBe(withRequest({ temperature: undefined }));
  });

  it('does not depend on key order', () => {
    const reversed = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).reverse());
    const shuffled: CacheKeyParts = {
      principal: parts.principal,
      input: parts.input.map((item) => reversed(item)),
      request: { ...reversed(request), tools: [reversed({ ...tool, parameters: reversed(tool.parameters) })] } as CreateRequest,
      route: parts.route,
    };
    expect(cacheKey(shuffled)).toBe(key);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
  });
});

describe('historyFingerprint', () => {
  const history = parts.input;
  it('changes with any history content, never with our item ids; an item reference keeps its id', () => {
    const fp = historyFingerprint(history);
    expect(historyFingerprint(structuredClone(history).map(({ id: _i, status: _s, ...rest }) => rest))).toBe(fp);
    expect(historyFingerprint(history.slice(1))).not.toBe(fp);
    expect(historyFingerprint([{ type: 'item_reference', id: 'msg_a' }])).not.toBe(historyFingerprint([{ type: 'item_reference', id: 'msg_b' }]));
  });
});
