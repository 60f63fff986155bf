// Stateless reasoning on Chat backends (issue 13 point 4): with `include:
// ["reasoning.encrypted_content"]` a reasoning item carries content sealed by the gateway; sent
// back (as Codex does: `content: null`), it is opened so the model sees its earlier reasoning; a
// changed or foreign blob is a 400 naming the item; keys rotate; native upstreams' blobs pass untouched.
import OpenAI from 'openai';
import type { ResponseInputItem, ResponseReasoningItem } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformingFetch } from '../helpers/conformance.ts';
import { startSystem, type System } from '../helpers/harness.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';

const OLD_KEY = 'the-old-reasoning-key-0123456789abcdef';
const NEW_KEY = 'the-new-reasoning-key-0123456789abcdef';
const THOUGHT = 'The user wants the weather; I will call get_weather for Paris.';

let sys: System;
let client: OpenAI;
const ollama = () => sys.upstreams[0]!;
const openai = () => sys.upstreams[1]!;
const lastBody = (u: FakeUpstream, path: string) => u.requests.filter((r) => r.path === path).at(-1)!.body;
const clientOf = (s: System) => new OpenAI({ baseURL: s.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch });

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [{ flavor: 'ollama' }, { flavor: 'openai', models: ['gpt-5.5'] }],
    extraConfig: `reasoning_keys: ["${OLD_KEY}"]`,
  });
  client = clientOf(sys);
});
afterAll(() => sys.close());

/** A first turn whose reasoning comes back sealed, streamed (as Codex asks) or not. */
async function sealedTurn(stream: boolean): Promise<ResponseReasoningItem> {
  ollama().script({ reasoning: THOUGHT, text: 'Checking.' });
  const params = { model: 'llama3.2', input: 'Weather in Paris?', store: false, include: ['reasoning.encrypted_content' as const] };
  const response = stream ? await client.responses.stream(params).finalResponse() : await client.responses.create(params);
  const reasoning = response.output.find((i) => i.type === 'reasoning') as ResponseReasoningItem;
  expect(reasoning.encrypted_content).toMatch(/^gw1\./);
  expect(reasoning.encrypted_content).not.toContain('Paris');
  return reasoning;
}

/** The next turn as a stateless client sends it: the reasoning replayed with `content: null`. */
const replay = (reasoning: ResponseReasoningItem, blob = reasoning.encrypted_content): ResponseInputItem[] => [
  { role: 'user', content: 'Weather in Paris?' },
  { ...reasoning, content: null, encrypted_content: blob } as unknown as ResponseInputItem,
  { role: 'assistant', content: 'Checking.' },
  { role: 'user', content: 'And tomorrow?' },
];

describe('sealed reasoning on a Chat backend', () => {
  it('is sealed only when asked for', async () => {
    ollama().script({ reasoning: THOUGHT, text: 'Checking.' });
    const plain = await client.responses.create({ model: 'llama3.2', input: 'Weather in Paris?', store: false });
    expect(plain.output[0]).toMatchObject({ type: 'reasoning', content: [{ text: THOUGHT }] });
    expect(plain.output[0]).not.toHaveProperty('encrypted_content');
  });

  for (const stream of [false, true]) {
    it(`is opened when sent back with content null, so the model sees its earlier reasoning (${stream ? 'streamed' : 'JSON'})`, async () => {
      const reasoning = await sealedTurn(stream);
      ollama().script({ text: 'Sunny.' });
      const next = await client.responses.create({ model: 'llama3.2', input: replay(reasoning), store: false });
      expect(next.output_text).toBe('Sunny.');
      const messages = lastBody(ollama(), '/v1/chat/completions').messages;
      expect(messages[1]).toMatchObject({ role: 'assistant', content: 'Checking.', reasoning_content: THOUGHT });
      expect(JSON.stringify(messages)).not.toContain('gw1.');
    });
  }

  it('refuses a changed blob and a foreign one with a 400 naming the item', async () => {
    const reasoning = await sealedTurn(false);
    const blob = reasoning.encrypted_content!;
    const i = blob.length - 3;
    const changed = blob.slice(0, i) + (blob[i] === 'x' ? 'y' : 'x') + blob.slice(i + 1);
    const chats = () => ollama().requests.filter((r) => r.path === '/v1/chat/completions').length;
    const before = chats();
    for (const [bad, why] of [[changed, /does not open/], ['gAAAAABo-an-upstream-blob==', /not sealed by this gateway/]] as const) {
      const err = await client.responses.create({ model: 'llama3.2', input: replay(reasoning, bad) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input[1].encrypted_content');
      expect((err as Error).message).toMatch(why);
    }
    // Also before a background job is queued.
    const bg = await client.responses.create({ model: 'llama3.2', input: replay(reasoning, changed), background: true }).catch((e: unknown) => e);
    expect((bg as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input[1].encrypted_content');
    expect(chats()).toBe(before);
  });

  it('opens blobs sealed under a key rotated out of first place; a gateway without that key refuses them', async () => {
    const reasoning = await sealedTurn(false);
    const rotated = await startSystem({ extraConfig: `reasoning_keys: ["${NEW_KEY}", "${OLD_KEY}"]` });
    const other = await startSystem({ extraConfig: `reasoning_keys: ["${NEW_KEY}"]` });
    try {
      rotated.upstreams[0]!.script({ text: 'Sunny.' });
      await clientOf(rotated).responses.create({ model: 'llama3.2', input: replay(reasoning), store: false });
      expect(lastBody(rotated.upstreams[0]!, '/v1/chat/completions').messages[1].reasoning_content).toBe(THOUGHT);
      const err = await clientOf(other).responses.create({ model: 'llama3.2', input: replay(reasoning) }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/key this gateway no longer has/);
    } finally {
      await Promise.all([rotated.close(), other.close()]);
    }
  });
});

describe('a native upstream', () => {
  it("gets reasoning blobs as the client sent them, and its own come back untouched", async () => {
    openai().script({ reasoning: 'upstream thinking', text: 'ok', responseFields: {} });
    const input = [
      { role: 'user', content: 'hi' },
      { type: 'reasoning', id: 'rs_upstream', summary: [], content: null, encrypted_content: 'gAAAAABo-upstream-sealed==' },
      { role: 'user', content: 'again' },
    ] as unknown as ResponseInputItem[];
    await client.responses.create({ model: 'gpt-5.5', input, store: false, include: ['reasoning.encrypted_content'] });
    const sent = lastBody(openai(), '/v1/responses');
    expect(sent.input[1]).toMatchObject({ type: 'reasoning', encrypted_content: 'gAAAAABo-upstream-sealed==' });
    expect(sent.include).toEqual(['reasoning.encrypted_content']);
  });
});
