// The request-field table (shared/protocol/request-fields.ts) end to end: what each backend kind
// gets of a request, whichever way the request runs, and what the Response echoes.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, startSystem, type System } from '../helpers/harness.ts';
import { logLines } from '../helpers/log-lines.ts';

let sys: System;
let ollama: System['upstreams'][number];
let openai: System['upstreams'][number];

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [{ flavor: 'ollama', models: ['test-model:latest'] }, { flavor: 'openai', models: ['gpt'] }],
    extraConfig: 'flush_ms: 20\npoll_ms: 20',
    retryIntervalMs: 10,
  });
  [ollama, openai] = sys.upstreams as [typeof ollama, typeof openai];
});
afterAll(() => sys.close());

/** Every field the table knows that a native upstream gets, and one it does not know. */
const SETTINGS = {
  instructions: 'be brief',
  include: ['reasoning.encrypted_content'],
  truncation: 'auto',
  top_logprobs: 3,
  max_tool_calls: 2,
  prompt_cache_key: 'pck-1',
  service_tier: 'flex',
  temperature: 0.3,
  top_p: 0.9,
  presence_penalty: 0.5,
  frequency_penalty: -0.5,
  max_output_tokens: 99,
  parallel_tool_calls: false,
  tools: [{ type: 'function', name: 'f', parameters: { type: 'object' }, strict: false }],
  tool_choice: 'auto',
  text: { format: { type: 'text' }, verbosity: 'low' },
  reasoning: { effort: 'low', summary: 'auto' },
  metadata: { k: 'v' },
  user: 'u1',
  safety_identifier: 's1',
  stream_options: { include_obfuscation: false },
  a_field_from_the_future: { x: 1 },
};

const nativeBodies = () => openai.requests.filter((r) => r.path === '/v1/responses').map((r) => r.body);

async function waitTerminal(id: string): Promise<any> {
  for (let i = 0; i < 500; i++) {
    const r = (await getJson(`${sys.base}/responses/${id}`)).json;
    if (['completed', 'failed', 'incomplete', 'cancelled'].includes(r.status)) return r;
    await sleep(20);
  }
  throw new Error(`response ${id} did not finish`);
}

describe('a native (Responses) upstream', () => {
  it('gets the same request in the background as in the foreground: every field the client sent, but the gateway’s own', async () => {
    const request = { model: 'gpt', input: 'same request', ...SETTINGS };
    openai.script({ text: 'fg' }, { text: 'bg' });
    const fg = await postJson(`${sys.base}/responses`, { ...request, stream: true });
    expect(fg.status).toBe(200);
    const bg = await postJson(`${sys.base}/responses`, { ...request, background: true });
    expect(bg.status).toBe(200);
    expect((await waitTerminal(bg.json.id)).status).toBe('completed');

    const [foreground, background] = nativeBodies().slice(-2);
    expect(background).toEqual(foreground);
    expect(foreground).toEqual({ ...SETTINGS, model: 'gpt', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'same request' }] }], store: false, stream: true });
  });
});

describe('a Chat Completions upstream', () => {
  it('gets every field the table maps, and the log names each dropped field with its reason', async () => {
    ollama.script({ text: 'ok' });
    let res!: Awaited<ReturnType<typeof postJson>>;
    const lines = await logLines(async () => { res = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'hi', ...SETTINGS }); });
    expect(res.status).toBe(200);
    const body = ollama.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body;
    expect(body).toMatchObject({ temperature: 0.3, top_p: 0.9, presence_penalty: 0.5, frequency_penalty: -0.5, max_tokens: 99, parallel_tool_calls: false, user: 'u1', reasoning_effort: 'low', verbosity: 'low' });
    for (const dropped of ['include', 'truncation', 'top_logprobs', 'max_tool_calls', 'prompt_cache_key', 'service_tier', 'metadata', 'a_field_from_the_future', 'stream_options']) {
      expect(body, dropped).not.toHaveProperty(dropped);
    }
    const line = lines.find((l) => l.message === 'request fields a Chat backend cannot take were dropped');
    expect(line).toMatchObject({ level: 'INFO', id: res.json.id, endpoint: ollama.url });
    // A part of a mapped field a Chat backend cannot take is named too (reasoning.summary).
    // include: reasoning.encrypted_content is the gateway's own to honour (it seals the reasoning).
    expect(Object.keys(line!.dropped as object).sort()).toEqual(['a_field_from_the_future', 'max_tool_calls', 'prompt_cache_key', 'reasoning.summary', 'service_tier', 'top_logprobs', 'truncation']);
    expect((line!.dropped as Record<string, string>).truncation).toMatch(/whole history/);
  });

  it('the Response echoes presence_penalty and frequency_penalty (0 when unset), as the Open Responses schema requires', async () => {
    ollama.script({ text: 'a' }, { text: 'b' });
    const set = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'x', presence_penalty: 1, frequency_penalty: 0.25 });
    expect(set.json).toMatchObject({ presence_penalty: 1, frequency_penalty: 0.25 });
    const unset = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'x' });
    expect(unset.json).toMatchObject({ presence_penalty: 0, frequency_penalty: 0 });
    const bad = await postJson(`${sys.base}/responses`, { model: 'test-model', input: 'x', presence_penalty: 3 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.param).toBe('presence_penalty');
  });
});
