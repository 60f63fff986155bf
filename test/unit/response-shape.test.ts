// Every Response carries what the Open Responses schema requires, whatever the upstream sent;
// function tools show `strict` as OpenAI decides an omitted one.
import { describe, expect, it } from 'vitest';
import { newResponseObject } from '../../shared/protocol/response.ts';
import { conformResponse, functionToolShape, strictCompatible } from '../../shared/protocol/response-shape.ts';
import { parseCreateRequest } from '../../shared/protocol/request-fields.ts';
import { rewriteNativeResponse } from '../../shared/stream/native.ts';
import { responseProblems } from '../helpers/conformance.ts';

const closed = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

describe('strict, as OpenAI decides an omitted one', () => {
  it('is true for schemas strict mode can take, all the way down', () => {
    expect(strictCompatible(closed)).toBe(true);
    expect(strictCompatible({ ...closed, properties: { a: { type: 'array', items: closed }, b: { anyOf: [closed, { type: 'null' }] } }, required: ['a', 'b'] })).toBe(true);
    expect(strictCompatible(null)).toBe(true);
  });

  it('is false when an object is open or leaves a property optional, at any depth', () => {
    expect(strictCompatible({ type: 'object' })).toBe(false);
    expect(strictCompatible({ ...closed, required: [] })).toBe(false);
    expect(strictCompatible({ ...closed, properties: { city: { type: 'object', properties: {} } } })).toBe(false);
    expect(strictCompatible({ ...closed, $defs: { x: { type: 'object' } } })).toBe(false);
  });

  it('fills description, parameters and strict; keeps a strict that was given', () => {
    expect(functionToolShape({ type: 'function', name: 'f' })).toEqual({ type: 'function', name: 'f', description: null, parameters: null, strict: true });
    expect(functionToolShape({ type: 'function', name: 'f', parameters: closed })).toMatchObject({ strict: true });
    expect(functionToolShape({ type: 'function', name: 'f', parameters: { type: 'object' } })).toMatchObject({ strict: false });
    expect(functionToolShape({ type: 'function', name: 'f', parameters: closed, strict: false })).toMatchObject({ strict: false });
  });
});

describe('the Response echo', () => {
  it('carries every Open Responses field for any request, tools normalized and hosted ones as sent', () => {
    const req = parseCreateRequest({
      model: 'm', input: 'x', text: { verbosity: 'low' },
      tools: [{ type: 'function', name: 'f', parameters: closed }, { type: 'web_search' }, { type: 'custom', name: 'apply_patch' }],
    });
    const res = newResponseObject({ id: `resp_${'a'.repeat(32)}`, model: 'm', createdAt: 1, request: req });
    expect(responseProblems(res)).toEqual([]);
    expect(res.text).toEqual({ format: { type: 'text' }, verbosity: 'low' });
    expect(res.tools).toEqual([
      { type: 'function', name: 'f', description: null, parameters: closed, strict: true },
      { type: 'web_search' },
      { type: 'custom', name: 'apply_patch' },
    ]);
    expect(res).toMatchObject({ presence_penalty: 0, frequency_penalty: 0, top_logprobs: 0, temperature: 1, top_p: 1, truncation: 'disabled' });
  });
});

describe('a native upstream Response', () => {
  const base = newResponseObject({
    id: `resp_${'b'.repeat(32)}`, model: 'gpt-x', createdAt: 1, status: 'in_progress',
    request: parseCreateRequest({ model: 'gpt-x', input: 'x', tools: [{ type: 'function', name: 'f' }], presence_penalty: 0.5, metadata: { k: 'v' } }),
  });

  it("keeps the upstream's tools and settings, and fills what it left out from our echo", () => {
    const upstream = {
      id: 'resp_upstream', object: 'response', created_at: 2, status: 'completed', model: 'gpt-x-2026', output: [],
      tools: [{ type: 'function', name: 'f', description: null, parameters: null, strict: true, defer_loading: false }],
      temperature: null, reasoning: { effort: 'medium' }, service_tier: 'flex', store: false,
    };
    const res = rewriteNativeResponse(upstream, base);
    expect(res.id).toBe(base.id);
    expect(res.tools).toEqual(upstream.tools); // OpenAI's own normalized echo, not ours
    expect(res.service_tier).toBe('flex');
    expect(res.store).toBe(true); // ours: the upstream ran with store false
    expect(res.metadata).toEqual({ k: 'v' });
    expect(res.presence_penalty).toBe(0.5); // left out upstream: our echo
    expect(res.frequency_penalty).toBe(0);
    expect(res.temperature).toBe(1); // null upstream: a required number
    expect(res.reasoning).toEqual({ effort: 'medium', summary: null });
    expect(responseProblems({ ...res, completed_at: 2 })).toEqual([]);
  });

  it('normalizes function tools the upstream sent without strict', () => {
    const res = conformResponse({ ...base, tools: [{ type: 'function', name: 'g', parameters: { type: 'object' } }] }, base);
    expect(res.tools).toEqual([{ type: 'function', name: 'g', description: null, parameters: { type: 'object' }, strict: false }]);
  });
});
