// WebSocket mode (issue 13 point 8): the openai SDK's ResponsesWS against the local server's
// `GET /v1/responses` upgrade: several responses on one socket, `previous_response_id` across them
// (the socket's last unstored response from memory, stored ones from the table), `generate: false`
// as Codex prewarms, errors as OpenAI's error events (the socket stays usable), the handshake
// authenticated with the gateway's keys; and, where WebSockets are off (Lambda), a 426.
import http from 'node:http';
import OpenAI from 'openai';
import { ResponsesWS } from 'openai/resources/responses/ws';
import type { ResponsesServerEvent } from 'openai/resources/responses/responses';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordProblems, streamProblems } from '../helpers/conformance.ts';
import { startSystem, type System } from '../helpers/harness.ts';

const KEY = 'ws-test-client-key';
let sys: System;
const ollama = () => sys.upstreams[0]!;
const chats = () => ollama().requests.filter((r) => r.path === '/v1/chat/completions');

beforeAll(async () => {
  sys = await startSystem({ extraConfig: `router_api_key: "${KEY}"` });
});
afterAll(() => sys.close());

const TERMINAL = /^(response\.(completed|incomplete|failed)|error)$/;

/** A ResponsesWS and the events of each response it is sent, one response at a time. */
async function open(apiKey = KEY) {
  const ws = new ResponsesWS(new OpenAI({ baseURL: sys.base, apiKey, maxRetries: 0 }));
  const events: ResponsesServerEvent[] = [];
  let waiting: (() => void) | null = null;
  ws.on('event', (e) => { events.push(e); if (TERMINAL.test(e.type)) waiting?.(); });
  ws.on('error', () => undefined); // error events are read from `events`
  /** Sends one response.create and resolves with its events (to the terminal one, checked for conformance). */
  const create = async (body: Record<string, unknown>) => {
    const from = events.length;
    const done = new Promise<void>((resolve) => { waiting = resolve; });
    ws.send({ type: 'response.create', ...body } as never);
    await done;
    const mine = events.slice(from);
    if (mine[0]?.type !== 'error') recordProblems(streamProblems(mine), 'WebSocket');
    return { events: mine, last: mine.at(-1) as any };
  };
  return { ws, create };
}

describe('WebSocket mode on the local server (openai SDK ResponsesWS)', () => {
  it('serves several responses on one socket, previous_response_id across them, stored or not', async () => {
    const { ws, create } = await open();
    try {
      ollama().script({ text: 'Hello Ada.' }, { text: 'Your name is Ada.' }, { text: 'Still Ada.' }, { text: 'Ada, again.' });
      const a = await create({ model: 'llama3.2', input: 'My name is Ada.', store: false });
      expect(a.last).toMatchObject({ type: 'response.completed', response: { store: false, output_text: 'Hello Ada.' } });
      expect(a.events.map((e) => e.type)).toContain('response.output_text.delta');
      // Not stored: the socket remembers its last response.
      const b = await create({ model: 'llama3.2', previous_response_id: a.last.response.id, input: 'What is my name?', store: false });
      expect(b.last.response.output_text).toBe('Your name is Ada.');
      expect(chats().at(-1)!.body.messages.map((m: any) => [m.role, m.content])).toEqual([
        ['user', 'My name is Ada.'], ['assistant', 'Hello Ada.'], ['user', 'What is my name?'],
      ]);
      // Stored (the default): then chained from the table, on this socket or any.
      const c = await create({ model: 'llama3.2', previous_response_id: b.last.response.id, input: 'Sure?' });
      const d = await create({ model: 'llama3.2', previous_response_id: c.last.response.id, input: 'Once more.' });
      expect(d.last.response.output_text).toBe('Ada, again.');
      expect(chats().at(-1)!.body.messages).toHaveLength(7);
      const stored = await new OpenAI({ baseURL: sys.base, apiKey: KEY }).responses.retrieve(d.last.response.id);
      expect(stored.previous_response_id).toBe(c.last.response.id);
    } finally {
      ws.close();
    }
  });

  it('answers generate: false (Codex prewarm) without a model, and the next frame continues it', async () => {
    const { ws, create } = await open();
    try {
      const before = chats().length;
      const warm = await create({ model: 'llama3.2', input: [{ role: 'developer', content: 'You are terse.' }], store: false, generate: false });
      expect(warm.events.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.completed']);
      expect(warm.last.response.output).toEqual([]);
      expect(chats().length).toBe(before);
      ollama().script({ text: 'Hi.' });
      await create({ model: 'llama3.2', previous_response_id: warm.last.response.id, input: [{ role: 'user', content: 'Hello' }], store: false });
      expect(chats().at(-1)!.body.messages).toEqual([{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hello' }]);
    } finally {
      ws.close();
    }
  });

  it('sends errors as OpenAI error events with the HTTP status, and the socket serves on', async () => {
    const { ws, create } = await open();
    try {
      const unknown = await create({ model: 'no-such-model', input: 'hi' });
      expect(unknown.events).toHaveLength(1);
      expect(unknown.last).toMatchObject({ type: 'error', status: 404, error: { type: 'invalid_request_error' } });
      // An unstored response that is not the socket's last is gone, as OpenAI's.
      ollama().script({ text: 'one' }, { text: 'two' });
      const one = await create({ model: 'llama3.2', input: 'one', store: false });
      await create({ model: 'llama3.2', input: 'two', store: false });
      const gone = await create({ model: 'llama3.2', previous_response_id: one.last.response.id, input: 'three' });
      expect(gone.last).toMatchObject({ type: 'error', status: 404, error: { param: 'previous_response_id' } });
      const bad = await create({ model: 'llama3.2', input: 'x', temperature: 9 });
      expect(bad.last).toMatchObject({ type: 'error', status: 400, error: { param: 'temperature' } });
      ollama().script({ text: 'still here' });
      expect((await create({ model: 'llama3.2', input: 'ok?' })).last.response.output_text).toBe('still here');
    } finally {
      ws.close();
    }
  });

  it('cuts off a client that piles up frames behind the running response, and runs none of those', async () => {
    const before = chats().length;
    const ws = new WebSocket(`${sys.base.replace('http:', 'ws:')}/responses`, { headers: { authorization: `Bearer ${KEY}` } });
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    for (let i = 0; i < 12; i++) ws.send(JSON.stringify({ type: 'response.create', model: 'llama3.2', input: `frame ${i}`, store: false }));
    expect(await closed).toBe(1008);
    await new Promise((r) => setTimeout(r, 300)); // time for anything still queued to have run
    expect(chats().length - before).toBeLessThanOrEqual(1);
  });

  it("authenticates the handshake with the gateway's keys", async () => {
    const res = await handshake(sys.base, 'wrong-key');
    expect(res).toMatchObject({ status: 401 });
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'invalid_api_key' });
  });

  it('leaves other upgrades (h2c) to be served as ordinary requests', async () => {
    ollama().script({ text: 'plain' });
    const body = JSON.stringify({ model: 'llama3.2', input: 'hi' });
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${sys.base}/responses`, {
        method: 'POST', agent: false,
        headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      }, (r) => { let t = ''; r.on('data', (c) => (t += c)); r.on('end', () => resolve({ status: r.statusCode!, text: t })); });
      req.on('error', reject);
      req.end(body);
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).output_text).toBe('plain');
  });
});

describe('without WebSocket mode (as on Lambda)', () => {
  it('answers the handshake with 426 in the error envelope, at once', async () => {
    const lambdaLike = await startSystem({ webSockets: false });
    try {
      const res = await handshake(lambdaLike.base);
      expect(res.status).toBe(426);
      expect(JSON.parse(res.body).error).toMatchObject({ code: 'websocket_not_supported', type: 'invalid_request_error' });
    } finally {
      await lambdaLike.close();
    }
  });
});

/** A raw WebSocket handshake to /v1/responses: the HTTP answer when it is refused. */
function handshake(base: string, apiKey?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http:', 'ws:')}/responses`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
    ws.on('open', () => { ws.close(); reject(new Error('the handshake was accepted')); });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    ws.on('error', () => undefined);
  });
}
