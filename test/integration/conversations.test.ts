// The Conversations API over HTTP with the real openai SDK (v7): conversations and their items,
// `conversation` on create (the conversation is the history, the finished turn is appended; JSON,
// streamed, background), mutual exclusion with previous_response_id, tenants, bad bodies.
import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { conformingFetch } from '../helpers/conformance.ts';
import { getJson, postJson, startSystem, type System } from '../helpers/harness.ts';
import type { RecordedRequest, Reply } from '../helpers/fake-upstream.ts';

let sys: System;
let up: System['upstreams'][number];
let alice: OpenAI;
let bob: OpenAI;
const model = 'test-model';
const aliceKey = { authorization: 'Bearer key-alice' };
const bobKey = { authorization: 'Bearer key-bob' };

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [{ flavor: 'vllm', models: [model] }],
    extraConfig: 'router_api_keys:\n  alice: key-alice\n  bob: key-bob\nflush_ms: 20\npoll_ms: 20',
    retryIntervalMs: 10,
  });
  up = sys.upstreams[0]!;
  alice = new OpenAI({ baseURL: sys.base, apiKey: 'key-alice', maxRetries: 0, fetch: conformingFetch });
  bob = new OpenAI({ baseURL: sys.base, apiKey: 'key-bob', maxRetries: 0, fetch: conformingFetch });
});
afterAll(() => sys.close());

interface ChatMessage { role: string; content?: any; tool_calls?: any[]; tool_call_id?: string }

/** The model: answers `echo: <last user text>`. */
function echo(req: RecordedRequest): Reply {
  const last = (req.body?.messages as ChatMessage[] | undefined)?.filter((m) => m.role === 'user').at(-1);
  return { text: `echo: ${typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content)}` };
}
beforeEach(() => { up.fallback = echo; });

const chats = () => up.requests.filter((r) => r.path === '/v1/chat/completions');
const lastMessages = () => chats().at(-1)!.body.messages as ChatMessage[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function allItems(client: OpenAI, id: string, order: 'asc' | 'desc' = 'asc', limit?: number): Promise<any[]> {
  const out: any[] = [];
  for await (const item of client.conversations.items.list(id, { order, ...(limit ? { limit } : {}) })) out.push(item);
  return out;
}

/** The text of a message item (input_text or output_text parts). */
const textOf = (item: any): string => (item.content ?? []).map((p: any) => p.text ?? '').join('');

async function status(p: Promise<unknown>): Promise<{ status: number | undefined; param?: string | null; code?: string | null; type?: string }> {
  try {
    await p;
    return { status: 200 };
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    return { status: err.status, param: err.param, code: err.code, type: err.type };
  }
}

describe('conversations', () => {
  it('create, retrieve, update and delete', async () => {
    const conv = await alice.conversations.create({
      metadata: { topic: 'demo' },
      items: [{ type: 'message', role: 'user', content: 'Hello!' }],
    });
    expect(conv).toMatchObject({ object: 'conversation', metadata: { topic: 'demo' } });
    expect(conv.id).toMatch(/^conv_[0-9a-f]{32}$/);
    expect(Number.isInteger(conv.created_at)).toBe(true);
    expect(Math.abs(conv.created_at - Date.now() / 1000)).toBeLessThan(60);

    expect(await alice.conversations.retrieve(conv.id)).toEqual(conv);
    const updated = await alice.conversations.update(conv.id, { metadata: { topic: 'renamed', lang: 'en' } });
    expect(updated).toEqual({ ...conv, metadata: { topic: 'renamed', lang: 'en' } });
    expect((await alice.conversations.retrieve(conv.id)).metadata).toEqual({ topic: 'renamed', lang: 'en' });

    const items = await allItems(alice, conv.id);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Hello!' }] });
    expect(items[0].id).toMatch(/^msg_/);

    expect(await alice.conversations.delete(conv.id)).toEqual({ id: conv.id, object: 'conversation.deleted', deleted: true });
    expect(await status(alice.conversations.retrieve(conv.id))).toMatchObject({ status: 404 });
    expect(await status(alice.conversations.items.list(conv.id))).toMatchObject({ status: 404 });
    expect(await status(alice.conversations.delete(conv.id))).toMatchObject({ status: 404 });
  });

  it('a conversation created without a body has no items and empty metadata', async () => {
    const res = await fetch(`${sys.base}/conversations`, { method: 'POST', headers: aliceKey });
    expect(res.status).toBe(200);
    const conv = await res.json();
    expect(conv).toMatchObject({ object: 'conversation', metadata: {} });
    const list = await alice.conversations.items.list(conv.id);
    expect(list.data).toEqual([]);
    expect(list.has_more).toBe(false);
  });

  it('unknown or malformed ids are 404 in the envelope', async () => {
    for (const id of ['conv_doesnotexist', 'nope', 'resp_abc', 'conv_a%2Fb']) {
      const res = await getJson(`${sys.base}/conversations/${id}`, aliceKey);
      expect(res.status).toBe(404);
      expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
    }
    expect((await getJson(`${sys.base}/conversations`, aliceKey)).status).toBe(405);
  });
});

describe('conversation items', () => {
  it('items.create appends in order, keeps given ids and returns the list it added', async () => {
    const conv = await alice.conversations.create({ items: [{ role: 'user', content: 'first' }] });
    const added = await alice.conversations.items.create(conv.id, {
      items: [
        { type: 'message', role: 'assistant', content: 'second' },
        { type: 'function_call', id: 'fc_given1', call_id: 'call_1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'result' },
      ],
    });
    expect(added.object).toBe('list');
    expect(added.data).toHaveLength(3);
    expect(added.has_more).toBe(false);
    expect(added.first_id).toBe(added.data[0]!.id);
    expect(added.last_id).toBe(added.data[2]!.id);
    expect(added.data[0]).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'second' }] });
    expect(added.data[1]).toMatchObject({ id: 'fc_given1', type: 'function_call', status: 'completed' });
    expect(added.data[2]!.id).toMatch(/^item_/);

    const items = await allItems(alice, conv.id);
    expect(items.map((i) => i.type)).toEqual(['message', 'message', 'function_call', 'function_call_output']);
    expect(items.slice(1)).toEqual(added.data);

    // An id the conversation already holds, or twice in one call: 400 naming the item.
    const dup = await status(alice.conversations.items.create(conv.id, {
      items: [{ type: 'function_call', id: 'fc_given1', call_id: 'call_2', name: 'f', arguments: '{}' }],
    }));
    expect(dup).toMatchObject({ status: 400, param: 'items[0].id' });
    const twice = await status(alice.conversations.items.create(conv.id, {
      items: [{ type: 'function_call', id: 'fc_x', call_id: 'a', name: 'f', arguments: '{}' }, { type: 'function_call', id: 'fc_x', call_id: 'b', name: 'f', arguments: '{}' }],
    }));
    expect(twice).toMatchObject({ status: 400, param: 'items[1].id' });
    expect(await allItems(alice, conv.id)).toHaveLength(4);
  });

  it('lists page with limit, order and after; the SDK auto-paginates over more than 20 items', async () => {
    const conv = await alice.conversations.create({ items: Array.from({ length: 20 }, (_, i) => ({ role: 'user' as const, content: `m${i}` })) });
    await alice.conversations.items.create(conv.id, { items: Array.from({ length: 15 }, (_, i) => ({ role: 'user' as const, content: `m${20 + i}` })) });
    const texts = Array.from({ length: 35 }, (_, i) => `m${i}`);

    // Default: newest first, 20 a page.
    const first = await alice.conversations.items.list(conv.id);
    expect(first.data.map(textOf)).toEqual(texts.slice().reverse().slice(0, 20));
    expect(first.has_more).toBe(true);
    expect(first.last_id).toBe(first.data[19]!.id);

    expect((await allItems(alice, conv.id, 'desc')).map(textOf)).toEqual(texts.slice().reverse());
    expect((await allItems(alice, conv.id, 'asc')).map(textOf)).toEqual(texts);
    expect((await allItems(alice, conv.id, 'asc', 7)).map(textOf)).toEqual(texts);
    expect((await allItems(alice, conv.id, 'desc', 100)).map(textOf)).toEqual(texts.slice().reverse());

    const asc = await allItems(alice, conv.id, 'asc');
    const after = await alice.conversations.items.list(conv.id, { order: 'asc', after: asc[4].id, limit: 3 });
    expect(after.data.map(textOf)).toEqual(['m5', 'm6', 'm7']);
    expect(after.has_more).toBe(true);
    const before = await alice.conversations.items.list(conv.id, { order: 'desc', after: asc[4].id, limit: 10 });
    expect(before.data.map(textOf)).toEqual(['m3', 'm2', 'm1', 'm0']);
    expect(before.has_more).toBe(false);
    const end = await alice.conversations.items.list(conv.id, { order: 'asc', after: asc[34].id });
    expect(end.data).toEqual([]);
    expect(end.has_more).toBe(false);
    const raw = await getJson(`${sys.base}/conversations/${conv.id}/items?order=asc&after=${asc[34].id}`, aliceKey);
    expect(raw.json).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });

    // `include` is accepted (nothing we store is left out of items anyway).
    const included = await alice.conversations.items.list(conv.id, { limit: 1, include: ['message.output_text.logprobs'] });
    expect(included.data).toHaveLength(1);
  });

  it('retrieves and deletes single items; deleting answers with the conversation', async () => {
    const conv = await alice.conversations.create({ metadata: { k: 'v' }, items: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }, { role: 'user', content: 'c' }] });
    const [a, b, c] = await allItems(alice, conv.id);
    expect(await alice.conversations.items.retrieve(b.id, { conversation_id: conv.id })).toEqual(b);

    const after = await alice.conversations.items.delete(b.id, { conversation_id: conv.id });
    expect(after).toEqual(conv);
    expect((await allItems(alice, conv.id)).map(textOf)).toEqual(['a', 'c']);
    expect(await status(alice.conversations.items.retrieve(b.id, { conversation_id: conv.id }))).toMatchObject({ status: 404 });
    expect(await status(alice.conversations.items.delete(b.id, { conversation_id: conv.id }))).toMatchObject({ status: 404 });
    expect(await status(alice.conversations.items.retrieve('msg_nothing', { conversation_id: conv.id }))).toMatchObject({ status: 404 });
    // The cursor of a deleted item is gone too.
    expect(await status(alice.conversations.items.list(conv.id, { after: b.id }))).toMatchObject({ status: 400, param: 'after' });
    // Paging over the gap.
    const page = await alice.conversations.items.list(conv.id, { order: 'asc', after: a.id });
    expect(page.data.map((i) => i.id)).toEqual([c.id]);
  });
});

describe('storage', () => {
  /** Part items (`b#…`) in the conversation's partition. */
  const partItems = async (id: string) => {
    const doc = DynamoDBDocumentClient.from(sys.gw.dynamo.client);
    const out = await doc.send(new QueryCommand({
      TableName: sys.gw.dynamo.tables.responses, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :b)',
      ExpressionAttributeValues: { ':pk': id, ':b': 'b#' }, Select: 'COUNT', ConsistentRead: true,
    }));
    return out.Count;
  };

  it('concurrent appends get a total order: each call\'s items stay together, none lost', async () => {
    const conv = await alice.conversations.create();
    await Promise.all(Array.from({ length: 10 }, (_, call) => alice.conversations.items.create(conv.id, {
      items: Array.from({ length: 3 }, (_, i) => ({ role: 'user' as const, content: `c${call}.${i}` })),
    })));
    const texts = (await allItems(alice, conv.id)).map(textOf);
    expect(texts).toHaveLength(30);
    for (let at = 0; at < 30; at += 3) {
      const call = texts[at]!.split('.')[0];
      expect(texts.slice(at, at + 3)).toEqual([0, 1, 2].map((i) => `${call}.${i}`));
    }
    expect(new Set(texts).size).toBe(30);
  });

  it('an item larger than a DynamoDB item is stored in parts and read back whole', async () => {
    const big = randomBytes(450_000).toString('base64'); // ~600 KB that gzip cannot shrink much
    const conv = await alice.conversations.create({ items: [{ role: 'user', content: 'small' }, { role: 'user', content: big }] });
    const [, item] = await allItems(alice, conv.id);
    expect(textOf(item)).toBe(big);
    expect(textOf(await alice.conversations.items.retrieve(item.id, { conversation_id: conv.id }))).toBe(big);
    const page = await alice.conversations.items.list(conv.id, { limit: 1 });
    expect(textOf(page.data[0])).toBe(big);
    expect(await partItems(conv.id)).toBe(2);
    await alice.conversations.items.delete(item.id, { conversation_id: conv.id });
    expect((await allItems(alice, conv.id)).map(textOf)).toEqual(['small']);
    expect(await partItems(conv.id)).toBe(0);
  });
});

describe('responses in a conversation', () => {
  it('each turn sees the conversation and is appended to it (JSON)', async () => {
    const conv = await alice.conversations.create({ items: [{ role: 'developer', content: 'Be brief.' }] });
    const first = await alice.responses.create({ model, input: 'My name is Ada.', conversation: conv.id });
    expect(first.output_text).toBe('echo: My name is Ada.');
    expect(first.conversation).toEqual({ id: conv.id });
    expect(first.previous_response_id).toBeNull();
    // A developer item reaches a Chat backend as the system message chat templates accept.
    expect(lastMessages().map((m) => [m.role, m.content])).toEqual([['system', 'Be brief.'], ['user', 'My name is Ada.']]);

    // The turn's input and output, with the ids they have in the response.
    const items = await allItems(alice, conv.id);
    expect(items).toHaveLength(3);
    const [inputItem] = (await alice.responses.inputItems.list(first.id)).data;
    expect(items[1]).toEqual(inputItem);
    expect(items[2]).toEqual(first.output[0]);

    const second = await alice.responses.create({ model, input: 'What is my name?', conversation: { id: conv.id } });
    expect(second.conversation).toEqual({ id: conv.id });
    expect(lastMessages().map((m) => [m.role, m.content])).toEqual([
      ['system', 'Be brief.'], ['user', 'My name is Ada.'], ['assistant', 'echo: My name is Ada.'], ['user', 'What is my name?'],
    ]);
    const after = await allItems(alice, conv.id);
    expect(after.map((i) => [i.role, textOf(i)])).toEqual([
      ['developer', 'Be brief.'], ['user', 'My name is Ada.'], ['assistant', 'echo: My name is Ada.'],
      ['user', 'What is my name?'], ['assistant', 'echo: What is my name?'],
    ]);
    // The stored response names its conversation too.
    expect((await alice.responses.retrieve(second.id)).conversation).toEqual({ id: conv.id });
  });

  it('streamed: the turn is in the conversation by the time the terminal event arrives', async () => {
    const conv = await alice.conversations.create();
    const stream = await alice.responses.create({ model, input: 'stream me', conversation: conv.id, stream: true });
    let itemsAtEnd: any[] = [];
    let completed: any;
    for await (const ev of stream) {
      if (ev.type === 'response.created') expect(ev.response.conversation).toEqual({ id: conv.id });
      if (ev.type === 'response.completed') {
        completed = ev.response;
        itemsAtEnd = await allItems(alice, conv.id);
      }
    }
    expect(completed.output_text).toBe('echo: stream me');
    expect(itemsAtEnd.map((i) => [i.role, textOf(i)])).toEqual([['user', 'stream me'], ['assistant', 'echo: stream me']]);
    expect(itemsAtEnd[1].id).toBe(completed.output[0].id);

    await alice.responses.create({ model, input: 'again', conversation: conv.id, stream: true }).then(async (s) => { for await (const _ of s) { /* drain */ } });
    expect(lastMessages().map((m) => m.content)).toEqual(['stream me', 'echo: stream me', 'again']);
    expect(await allItems(alice, conv.id)).toHaveLength(4);
  });

  it('background: the worker reads the conversation and appends the turn before it completes', async () => {
    const conv = await alice.conversations.create({ items: [{ role: 'user', content: 'earlier' }, { role: 'assistant', content: 'noted' }] });
    const queued = await alice.responses.create({ model, input: 'in the background', conversation: conv.id, background: true });
    expect(queued.conversation).toEqual({ id: conv.id });
    let r = queued;
    for (let i = 0; i < 500 && !['completed', 'failed', 'incomplete', 'cancelled'].includes(r.status!); i++) {
      await sleep(20);
      r = await alice.responses.retrieve(queued.id);
    }
    expect(r.status).toBe('completed');
    expect(r.output_text).toBe('echo: in the background');
    expect(lastMessages().map((m) => m.content)).toEqual(['earlier', 'noted', 'in the background']);
    const items = await allItems(alice, conv.id);
    expect(items.map(textOf)).toEqual(['earlier', 'noted', 'in the background', 'echo: in the background']);
    expect(items[3].id).toBe(r.output[0]!.id);

    // Streamed background: the log's terminal event comes after the append.
    const stream = await alice.responses.create({ model, input: 'streamed bg', conversation: conv.id, background: true, stream: true });
    let seen: any[] = [];
    for await (const ev of stream) if (ev.type === 'response.completed') seen = await allItems(alice, conv.id);
    expect(seen.map(textOf).slice(-2)).toEqual(['streamed bg', 'echo: streamed bg']);
  });

  it('a tool round trip across turns; a resent item is a duplicate (400)', async () => {
    const conv = await alice.conversations.create();
    const tools = [{ type: 'function' as const, name: 'add', parameters: { type: 'object' }, strict: false }];
    up.script({ toolCalls: [{ id: 'call_7', name: 'add', arguments: '{"a":1,"b":2}' }] });
    const call = await alice.responses.create({ model, input: 'add 1 and 2', tools, conversation: conv.id });
    const fc = call.output.find((o) => o.type === 'function_call')!;
    expect((await allItems(alice, conv.id)).map((i) => i.type)).toEqual(['message', 'function_call']);

    const resent = await status(alice.responses.create({
      model, tools, conversation: conv.id, input: [fc as any, { type: 'function_call_output', call_id: 'call_7', output: '3' }],
    }));
    expect(resent).toMatchObject({ status: 400, param: 'input[0].id', code: 'duplicate_item' });

    up.script({ text: 'It is 3.' });
    const done = await alice.responses.create({ model, tools, conversation: conv.id, input: [{ type: 'function_call_output', call_id: 'call_7', output: '3' }] });
    expect(done.output_text).toBe('It is 3.');
    const msgs = lastMessages();
    expect(msgs[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_7', function: { name: 'add', arguments: '{"a":1,"b":2}' } }] });
    expect(msgs[2]).toEqual({ role: 'tool', tool_call_id: 'call_7', content: '3' });
    expect((await allItems(alice, conv.id)).map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_output', 'message']);
  });

  it('a failed turn is not appended; store: false turns are', async () => {
    const conv = await alice.conversations.create();
    up.script({ status: 400, errorMessage: 'bad prompt' });
    expect((await status(alice.responses.create({ model, input: 'fails', conversation: conv.id }))).status).toBe(400);
    expect(await allItems(alice, conv.id)).toEqual([]);
    await alice.responses.create({ model, input: 'unstored', conversation: conv.id, store: false });
    expect((await allItems(alice, conv.id)).map(textOf)).toEqual(['unstored', 'echo: unstored']);
  });

  it('conversation and previous_response_id together: 400 naming conversation', async () => {
    const conv = await alice.conversations.create();
    const prev = await alice.responses.create({ model, input: 'x' });
    const before = chats().length;
    for (const background of [false, true]) {
      const res = await postJson(`${sys.base}/responses`, { model, input: 'y', conversation: conv.id, previous_response_id: prev.id, background }, aliceKey);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param: 'conversation' });
    }
    expect(chats().length).toBe(before);
    expect(await allItems(alice, conv.id)).toEqual([]);
  });

  it('an unknown conversation is 404 naming conversation', async () => {
    for (const conversation of ['conv_00000000000000000000000000000000', { id: 'conv_missing' }, 'not-a-conv']) {
      for (const extra of [{}, { stream: true }, { background: true }]) {
        const res = await postJson(`${sys.base}/responses`, { model, input: 'y', conversation, ...extra }, aliceKey);
        expect(res.status).toBe(404);
        expect(res.json.error).toMatchObject({ param: 'conversation', code: 'not_found' });
      }
    }
  });
});

describe('tenants', () => {
  it("another principal's conversation is 404 on every route and cannot be used in create", async () => {
    const conv = await alice.conversations.create({ metadata: { owner: 'alice' }, items: [{ role: 'user', content: 'private' }] });
    const [item] = await allItems(alice, conv.id);
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['retrieve', () => bob.conversations.retrieve(conv.id)],
      ['update', () => bob.conversations.update(conv.id, { metadata: { owner: 'bob' } })],
      ['items.create', () => bob.conversations.items.create(conv.id, { items: [{ role: 'user', content: 'injected' }] })],
      ['items.list', () => bob.conversations.items.list(conv.id)],
      ['items.retrieve', () => bob.conversations.items.retrieve(item.id, { conversation_id: conv.id })],
      ['items.delete', () => bob.conversations.items.delete(item.id, { conversation_id: conv.id })],
      ['delete', () => bob.conversations.delete(conv.id)],
    ];
    for (const [name, attempt] of attempts) expect(await status(attempt()), name).toMatchObject({ status: 404 });
    for (const extra of [{}, { stream: true }, { background: true }]) {
      const res = await postJson(`${sys.base}/responses`, { model, input: 'y', conversation: conv.id, ...extra }, bobKey);
      expect(res.status).toBe(404);
      expect(res.json.error.param).toBe('conversation');
    }
    // Nothing of alice's changed.
    expect(await alice.conversations.retrieve(conv.id)).toEqual(conv);
    expect(await allItems(alice, conv.id)).toEqual([item]);
  });
});

describe('bad bodies', () => {
  const tooMany = Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' }));
  const cases: Array<[string, string, string, unknown, string | null]> = [
    ['items not a list', 'POST', '', { items: 'hello' }, 'items'],
    ['more than 20 items', 'POST', '', { items: tooMany }, 'items'],
    ['an item with neither type nor role', 'POST', '', { items: [{ content: 'x' }] }, 'items[0].type'],
    ['a non-string item id', 'POST', '', { items: [{ role: 'user', content: 'x', id: 7 }] }, 'items[0].id'],
    ['metadata not an object', 'POST', '', { metadata: 'x' }, 'metadata'],
    ['a metadata value too long', 'POST', '', { metadata: { k: 'v'.repeat(513) } }, 'metadata.k'],
    ['more than 16 metadata keys', 'POST', '', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
    ['an array body', 'POST', '', [1], null],
    ['update without metadata', 'POST', '/ID', {}, 'metadata'],
    ['items.create without items', 'POST', '/ID/items', {}, 'items'],
    ['items.create with no items', 'POST', '/ID/items', { items: [] }, 'items'],
    ['items.create with 21 items', 'POST', '/ID/items', { items: tooMany }, 'items'],
  ];
  let id: string;
  beforeAll(async () => { id = (await alice.conversations.create()).id; });

  it.each(cases)('%s -> 400 in the envelope', async (_name, method, sub, body, param) => {
    const res = await postJson(`${sys.base}/conversations${sub.replace('ID', id)}`, body, aliceKey);
    expect(method).toBe('POST');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(typeof res.json.error.message).toBe('string');
    expect(await allItems(alice, id)).toEqual([]);
  });

  it('a body that is not JSON -> 400 invalid_json', async () => {
    for (const sub of ['', `/${id}`, `/${id}/items`]) {
      const res = await fetch(`${sys.base}/conversations${sub}`, { method: 'POST', headers: { ...aliceKey, 'content-type': 'application/json' }, body: '{"items": ' });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
    }
  });

  it('bad list parameters -> 400 naming them', async () => {
    for (const [q, param] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=x', 'limit'], ['order=sideways', 'order'], ['after=msg_unknown', 'after']]) {
      const res = await getJson(`${sys.base}/conversations/${id}/items?${q}`, aliceKey);
      expect(res.status, q).toBe(400);
      expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param });
    }
  });

  it('a malformed `conversation` on create -> 400 naming it', async () => {
    for (const conversation of [5, '', { id: 5 }, {}, ['conv_x']]) {
      const res = await postJson(`${sys.base}/responses`, { model, input: 'x', conversation }, aliceKey);
      expect(res.status).toBe(400);
      expect(res.json.error.param).toMatch(/^conversation/);
    }
  });
});
