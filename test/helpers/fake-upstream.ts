// A real HTTP server that answers the way Ollama, vLLM and OpenAI answer, scripted by tests.
//
// Byte shapes were checked against the servers' source:
//   - Ollama: `openai/openai.go` (ChatCompletionChunk, ToChunk, ToUsage, NewError, ToListCompletion)
//     and `middleware/openai.go` (ChatWriter: `data: <json>\n\n` per chunk, usage chunk = last chunk
//     with `choices: []` only with `stream_options.include_usage`, then `data: [DONE]\n\n`;
//     non-stream bodies are written by Go's json.Encoder, so they end with "\n"; every error on
//     /v1/* is rewritten to the envelope {"error":{message,type,param:null,code:null}}).
//   - vLLM: `entrypoints/openai/serving_chat.py` (chunks dumped with `exclude_unset=True`: first chunk
//     `{"role":"assistant","content":""}`, every choice carries `"logprobs":null`, the finishing choice
//     adds `"stop_reason":null`, usage chunk `choices: []` with usage keys in the order
//     prompt_tokens, total_tokens, completion_tokens; in-stream errors are Python `json.dumps` of
//     {"error":{message,type,param,code:int}} followed by `data: [DONE]`) and `protocol.py`
//     (ErrorResponse/ErrorInfo). vLLM's API-key middleware answers 401 `{"error":"Unauthorized"}`.
//   - OpenAI: the Responses streaming event reference (event names and fields, `sequence_number`,
//     `obfuscation` on delta events, `name` on function_call_arguments.done). Field order inside
//     objects follows what the API returns as far as we know it; where we were unsure the shape is
//     from memory of recorded streams (noted inline).
// Known, deliberate deviations: unknown routes answer JSON 404 on every flavor (real Ollama answers
// text/plain "404 page not found"); Ollama has no API keys, so with `apiKey` the ollama flavor
// answers 401 {"error":"unauthorized"} (what ollama.com and common auth proxies send).
//
// "Chunks" in cutAfterChunks / errorAfterChunks / malformedAfterChunks count the SSE frames written
// (every `data:` frame, including vLLM's role chunk and the usage chunk; every Responses event). The
// terminator (`data: [DONE]` or response.completed/incomplete) is never counted: a limit at or past
// the end applies just before it.

import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { answerSideRoute, type FakeTokenizer } from './fake-tokenize.ts';

export type Flavor = 'ollama' | 'vllm' | 'openai';

export interface ReplyToolCall {
  id?: string;
  name: string;
  /** JSON arguments; for a `custom` call (the openai flavor), its raw input. */
  arguments: string;
  /** openai flavor: a freeform `custom_tool_call` (input streamed with custom_tool_call_input events). */
  custom?: boolean;
}

export interface Reply {
  /** Assistant text; streamed in `chunkSize`-character deltas unless `deltas` is given. */
  text?: string;
  /** Exact text deltas (their concatenation is the text). */
  deltas?: string[];
  /** Characters per streamed delta (text, reasoning, vLLM/OpenAI argument fragments). Default 4. */
  chunkSize?: number;
  /** Reasoning, streamed before the text: `delta.reasoning` (ollama), `delta.reasoning_content`
   * (vllm), a reasoning item with a summary (openai /v1/responses). Not emitted on OpenAI chat. */
  reasoning?: string;
  /** Ollama: each call whole in one chunk; vLLM/OpenAI: a chunk with id+name+'' then argument fragments. */
  toolCalls?: ReplyToolCall[];
  /** Default: 'tool_calls' if toolCalls, else 'stop'. On /v1/responses 'length' and 'content_filter'
   * end the response as `incomplete`. */
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** Token counts; default derived from lengths (about 4 characters a token). */
  usage?: { prompt: number; completion: number; cached?: number; reasoningTokens?: number };
  /** Answer with this HTTP error status instead (body: the flavor's error JSON). */
  status?: number;
  errorMessage?: string;
  /** Exact JSON body for an error status (overrides the flavor's shape). */
  errorBody?: unknown;
  /** Extra response headers (e.g. `retry-after` on a 429). */
  headers?: Record<string, string>;
  /** Wait before the status line. */
  delayMs?: number;
  /** /v1/responses: fields of the Response object as this upstream echoes them (replacing the echo of the request; undefined removes one). */
  responseFields?: Record<string, unknown>;
  /** Wait between frames. */
  chunkDelayMs?: number;
  /** Destroy the socket after N frames (no terminator). Non-stream: after half the body. */
  cutAfterChunks?: number;
  /** In-stream error after N frames, then end (chat: `data: {"error":…}`; responses: response.failed). */
  errorAfterChunks?: number;
  /** A garbage `data: {not json` frame after N frames; the stream then goes on. */
  malformedAfterChunks?: number;
  /** Accept the request and never answer (ends when the client leaves or the server closes). */
  hang?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path with query string, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when absent or not JSON). */
  body: any;
  rawBody: string;
  receivedAt: number;
  /** performance.now() when it arrived (to order it against other events of this process). */
  receivedAtHr: number;
  /** True when the client closed the connection before we finished answering. */
  aborted: boolean;
  /** When the response ended or the connection closed. */
  closedAt?: number;
  /** performance.now() when the last byte of the answer was handed to the socket. */
  answeredAtHr?: number;
  /** The reply used (chat and responses routes only). */
  reply?: Reply;
}

export interface FakeUpstream {
  flavor: Flavor;
  /** `http://127.0.0.1:PORT` (Ollama-style base; native clients use `${url}/v1`). */
  url: string;
  requests: RecordedRequest[];
  /** Advertised by GET /api/tags (ollama) and GET /v1/models (all). Mutable. */
  models: string[];
  /** Advertised by GET /api/ps (ollama). Mutable. */
  loaded: string[];
  /** Chat/responses requests being answered right now, by the request's `model`. */
  inFlight: Record<string, number>;
  /** The most `inFlight` ever reached, by model (reassign `{}` to start over). */
  maxInFlight: Record<string, number>;
  /** TCP connections accepted so far: a client that keeps its connections alive opens few. */
  connections: number;
  /** Queue replies: each chat/responses request takes the next; when empty, `fallback` answers. */
  script(...replies: Reply[]): void;
  fallback: Reply | ((req: RecordedRequest) => Reply);
  close(): Promise<void>;
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
}

export interface FakeUpstreamOptions {
  flavor?: Flavor;
  models?: string[];
  loaded?: string[];
  /** Require `Authorization: Bearer <apiKey>` on every route. */
  apiKey?: string;
  /** Tokenize routes (fake-tokenize.ts): vLLM's (the vllm flavor's default), llama.cpp's, or none (the others'). */
  tokenizer?: FakeTokenizer;
}

const DEFAULT_MODELS: Record<Flavor, string[]> = {
  ollama: ['llama3.2:latest'],
  vllm: ['meta-llama/Llama-3.1-8B-Instruct'],
  openai: ['gpt-4o-mini'],
};

export async function startFakeUpstream(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const flavor = opts.flavor ?? 'ollama';
  const queue: Reply[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  let closing = false;

  const fake: FakeUpstream = {
    flavor,
    connections: 0,
    url: '',
    requests: [],
    models: [...(opts.models ?? DEFAULT_MODELS[flavor])],
    loaded: [...(opts.loaded ?? [])],
    inFlight: {},
    maxInFlight: {},
    fallback: { text: 'ok' },
    script: (...replies) => { queue.push(...replies); },
    close: async () => {
      closing = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    waitForRequests: (n, timeoutMs = 5000) => new Promise<void>((resolve, reject) => {
      if (fake.requests.length >= n) return resolve();
      const check = () => {
        if (fake.requests.length < n) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`fake upstream: expected ${n} requests within ${timeoutMs} ms, got ${fake.requests.length}`));
      }, timeoutMs);
      waiters.add(check);
    }),
  };

  const nextReply = (rec: RecordedRequest): Reply => {
    const queued = queue.shift();
    if (queued) return queued;
    return typeof fake.fallback === 'function' ? fake.fallback(rec) : fake.fallback;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 500, { error: { message: String(err), type: 'server_error', param: null, code: null } });
      } else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = req.url ?? '/';
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.split('?')[0],
      url,
      headers: req.headers,
      body: parseJson(rawBody),
      rawBody,
      receivedAt: Date.now(),
      receivedAtHr: performance.now(),
      aborted: false,
    };
    const ex = new Exchange(res, rec, () => closing);
    fake.requests.push(rec);
    for (const w of [...waiters]) w();

    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return sendJson(res, 401, unauthorizedBody(flavor, req.headers.authorization), flavor);
    }

    const route = `${rec.method} ${rec.path}`;
    if (route === 'POST /v1/chat/completions' || route === 'POST /v1/responses') {
      if (rec.body === undefined || typeof rec.body !== 'object') {
        return sendJson(res, 400, errorBody(flavor, 400, 'invalid JSON body'), flavor);
      }
      const reply = nextReply(rec);
      rec.reply = reply;
      const model = String(rec.body.model);
      fake.inFlight[model] = (fake.inFlight[model] ?? 0) + 1;
      fake.maxInFlight[model] = Math.max(fake.maxInFlight[model] ?? 0, fake.inFlight[model]);
      res.on('close', () => { fake.inFlight[model]! -= 1; });
      return route === 'POST /v1/chat/completions' ? answerChat(flavor, ex, reply) : answerResponses(flavor, ex, reply);
    }
    if (answerSideRoute(flavor, opts.tokenizer ?? (flavor === 'vllm' ? 'vllm' : 'none'), route, rec.body, res)) return;
    if (route === 'GET /v1/models') return sendJson(res, 200, modelList(flavor, fake.models), flavor, flavor === 'ollama');
    if (flavor === 'ollama') {
      if (route === 'GET /api/tags') return sendJson(res, 200, { models: fake.models.map(ollamaModelEntry) }, flavor);
      if (route === 'GET /api/ps') return sendJson(res, 200, { models: fake.loaded.map(ollamaLoadedEntry) }, flavor);
      if (route === 'GET /api/version') return sendJson(res, 200, { version: '0.12.6' }, flavor);
      if (route === 'GET /') return sendText(res, 200, 'Ollama is running');
    }
    if (flavor === 'vllm' && route === 'GET /health') return sendText(res, 200, '');
    sendJson(res, 404, notFoundBody(flavor, rec.method, rec.path), flavor);
  }

  server.on('connection', (socket) => {
    fake.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

// ── one request/response exchange ────────────────────────────────────────────

/** Tracks whether the connection is still there; sleeps end early when it goes. */
class Exchange {
  closed = false;
  private selfClosed = false;
  private wake = new Set<() => void>();

  constructor(readonly res: ServerResponse, readonly rec: RecordedRequest, serverClosing: () => boolean) {
    res.on('error', () => {});
    res.on('finish', () => { rec.answeredAtHr = performance.now(); });
    res.on('close', () => {
      this.closed = true;
      rec.closedAt = Date.now();
      if (!res.writableFinished && !this.selfClosed && !serverClosing()) rec.aborted = true;
      for (const w of this.wake) w();
    });
  }

  sleep(ms: number | undefined): Promise<void> {
    if (!ms || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(t); this.wake.delete(done); resolve(); };
      const t = setTimeout(done, ms);
      this.wake.add(done);
    });
  }

  /** Resolves only when the connection closes (client left or server closing). */
  untilClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.wake.add(resolve));
  }

  write(frame: string): void {
    if (!this.closed) this.res.write(frame);
  }

  /** Drop the connection on purpose (not a client abort): what was written is flushed, then FIN
   * without the chunked terminator, so the client sees a truncated body rather than a reset. */
  cut(): void {
    this.selfClosed = true;
    const socket = this.res.socket;
    if (!socket) return;
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

/** Common preamble: hang, delay, HTTP error. Returns false when the exchange is finished. */
async function preamble(flavor: Flavor, ex: Exchange, reply: Reply): Promise<boolean> {
  if (reply.hang) { await ex.untilClosed(); return false; }
  await ex.sleep(reply.delayMs);
  if (ex.closed) return false;
  if (reply.status !== undefined && reply.status >= 400) {
    const body = reply.errorBody ?? errorBody(flavor, reply.status, reply.errorMessage ?? STATUS_CODES[reply.status] ?? 'error');
    sendJson(ex.res, reply.status, body, flavor, flavor === 'ollama', reply.headers);
    return false;
  }
  return true;
}

const SSE_CONTENT_TYPE: Record<Flavor, string> = {
  ollama: 'text/event-stream', // gin, as set by Ollama's ChatWriter
  vllm: 'text/event-stream; charset=utf-8', // Starlette StreamingResponse
  openai: 'text/event-stream; charset=utf-8',
};

/** Writes SSE frames one by one (each flushed as its own chunk), applying the reply's faults. */
async function streamFrames(flavor: Flavor, ex: Exchange, reply: Reply, frames: string[], errorFrame: (seq: number) => string[]): Promise<void> {
  ex.res.writeHead(200, { 'content-type': SSE_CONTENT_TYPE[flavor], 'cache-control': 'no-cache', ...reply.headers });
  ex.res.flushHeaders();
  const last = frames.length - 1; // the terminator: never counted
  const at = (n: number | undefined) => (n === undefined ? -1 : Math.min(Math.max(n, 0), last));
  const cutAt = at(reply.cutAfterChunks);
  const errorAt = at(reply.errorAfterChunks);
  const malformedAt = at(reply.malformedAfterChunks);
  for (let i = 0; i <= last; i++) {
    if (i > 0) await ex.sleep(reply.chunkDelayMs);
    if (ex.closed) return;
    if (i === cutAt) { ex.cut(); return; }
    if (i === errorAt) {
      for (const f of errorFrame(i)) ex.write(f);
      ex.res.end();
      return;
    }
    if (i === malformedAt) ex.write('data: {not json\n\n');
    ex.write(frames[i]);
  }
  if (!ex.closed) ex.res.end();
}

/** Non-stream JSON answer; with cutAfterChunks, half the body then a dropped connection. */
function sendBody(ex: Exchange, reply: Reply, text: string): void {
  const contentType = 'application/json';
  if (reply.cutAfterChunks !== undefined) {
    const bytes = Buffer.from(text);
    ex.res.writeHead(200, { 'content-type': contentType, 'content-length': String(bytes.length), ...reply.headers });
    ex.res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    ex.cut();
    return;
  }
  ex.res.writeHead(200, { 'content-type': contentType, ...reply.headers });
  ex.res.end(text);
}

// ── Chat Completions ─────────────────────────────────────────────────────────

interface Tokens { prompt: number; completion: number; cached: number; reasoning: number }

function tokens(reply: Reply, body: Record<string, unknown>): Tokens {
  if (reply.usage) {
    return { prompt: reply.usage.prompt, completion: reply.usage.completion, cached: reply.usage.cached ?? 0, reasoning: reply.usage.reasoningTokens ?? 0 };
  }
  const est = (s: string) => Math.ceil(s.length / 4);
  const prompt = Math.max(1, est(JSON.stringify(body.messages ?? body.input ?? '')));
  const reasoning = est(reply.reasoning ?? '');
  const out = replyText(reply) + (reply.toolCalls ?? []).map((t) => t.name + t.arguments).join('');
  return { prompt, completion: Math.max(1, est(out) + reasoning), cached: 0, reasoning };
}

const replyText = (reply: Reply): string => reply.deltas ? reply.deltas.join('') : (reply.text ?? '');

function textPieces(reply: Reply): string[] {
  if (reply.deltas) return reply.deltas;
  return split(reply.text ?? '', reply.chunkSize);
}

/** Splits by code points so no delta ends inside a surrogate pair. */
function split(s: string, size = 4): string[] {
  const chars = Array.from(s);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += Math.max(1, size)) out.push(chars.slice(i, i + Math.max(1, size)).join(''));
  return out;
}

const finishReasonOf = (reply: Reply): string => reply.finishReason ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop');

function chatToolCallId(flavor: Flavor): string {
  if (flavor === 'vllm') return `chatcmpl-tool-${hex(16)}`;
  if (flavor === 'ollama') return `call_${alnum(8, true)}`;
  return `call_${alnum(24)}`;
}

function chatUsage(flavor: Flavor, t: Tokens): Record<string, unknown> {
  const total = t.prompt + t.completion;
  if (flavor === 'ollama') return { prompt_tokens: t.prompt, completion_tokens: t.completion, total_tokens: total };
  if (flavor === 'vllm') {
    return { prompt_tokens: t.prompt, total_tokens: total, completion_tokens: t.completion, ...(t.cached ? { prompt_tokens_details: { cached_tokens: t.cached } } : {}) };
  }
  return {
    prompt_tokens: t.prompt,
    completion_tokens: t.completion,
    total_tokens: total,
    prompt_tokens_details: { cached_tokens: t.cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: t.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

async function answerChat(flavor: Flavor, ex: Exchange, reply: Reply): Promise<void> {
  if (!(await preamble(flavor, ex, reply))) return;
  const body = ex.rec.body as Record<string, unknown>;
  const model = typeof body.model === 'string' ? body.model : 'unknown';
  const id = flavor === 'ollama' ? `chatcmpl-${randomInt(999)}` : flavor === 'vllm' ? `chatcmpl-${hex(16)}` : `chatcmpl-${alnum(29)}`;
  const created = Math.floor(Date.now() / 1000);
  const t = tokens(reply, body);
  const calls = (reply.toolCalls ?? []).map((c) => ({ ...c, id: c.id ?? chatToolCallId(flavor) }));
  const finish = finishReasonOf(reply);

  if (body.stream !== true) {
    const text = replyText(reply);
    let completion: Record<string, unknown>;
    if (flavor === 'ollama') {
      const message: Record<string, unknown> = { role: 'assistant', content: text };
      if (reply.reasoning) message.reasoning = reply.reasoning;
      if (calls.length) message.tool_calls = calls.map((c, index) => ({ id: c.id, index, type: 'function', function: { name: c.name, arguments: c.arguments } }));
      completion = { id, object: 'chat.completion', created, model, system_fingerprint: 'fp_ollama', choices: [{ index: 0, message, finish_reason: finish }], usage: chatUsage(flavor, t) };
    } else if (flavor === 'vllm') {
      const message = {
        role: 'assistant', content: calls.length && !text ? null : text, refusal: null, annotations: null, audio: null, function_call: null,
        tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
        reasoning_content: reply.reasoning ?? null,
      };
      completion = {
        id, object: 'chat.completion', created, model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish, stop_reason: null }],
        service_tier: null, system_fingerprint: null,
        usage: { ...chatUsage(flavor, t), prompt_tokens_details: t.cached ? { cached_tokens: t.cached } : null },
        prompt_logprobs: null, kv_transfer_params: null,
      };
    } else {
      const message: Record<string, unknown> = { role: 'assistant', content: calls.length && !text ? null : text, refusal: null, annotations: [] };
      if (calls.length) message.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
      completion = {
        id, object: 'chat.completion', created, model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage: chatUsage(flavor, t), service_tier: 'default', system_fingerprint: 'fp_fake0001',
      };
    }
    return sendBody(ex, reply, JSON.stringify(completion) + (flavor === 'ollama' ? '\n' : ''));
  }

  const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
  const includeUsage = streamOptions?.include_usage === true;
  const frames: string[] = [];
  const data = (obj: unknown) => frames.push(`data: ${JSON.stringify(obj)}\n\n`);
  const size = reply.chunkSize;

  if (flavor === 'ollama') {
    // Every chunk repeats role and content; `reasoning` and `tool_calls` only when present.
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
      id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, delta: { role: 'assistant', ...delta }, finish_reason: finishReason }],
    });
    for (const r of split(reply.reasoning ?? '', size)) data(chunk({ content: '', reasoning: r }, null));
    for (const p of textPieces(reply)) data(chunk({ content: p }, null));
    calls.forEach((c, index) => data(chunk({ content: '', tool_calls: [{ id: c.id, index, type: 'function', function: { name: c.name, arguments: c.arguments } }] }, null)));
    const final = chunk({ content: '' }, finish);
    data(final);
    if (includeUsage) data({ ...final, choices: [], usage: chatUsage(flavor, t) });
  } else if (flavor === 'vllm') {
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
      id, object: 'chat.completion.chunk', created, model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason, ...(finishReason !== null ? { stop_reason: null } : {}) }],
    });
    data(chunk({ role: 'assistant', content: '' }, null));
    for (const r of split(reply.reasoning ?? '', size)) data(chunk({ reasoning_content: r }, null));
    for (const p of textPieces(reply)) data(chunk({ content: p }, null));
    calls.forEach((c, index) => {
      data(chunk({ tool_calls: [{ id: c.id, type: 'function', index, function: { name: c.name, arguments: '' } }] }, null));
      for (const a of split(c.arguments, size)) data(chunk({ tool_calls: [{ index, function: { arguments: a } }] }, null));
    });
    data(chunk(calls.length ? {} : { content: '' }, finish));
    if (includeUsage) data({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: chatUsage(flavor, t) });
  } else {
    // OpenAI: `usage: null` on every chunk only when include_usage was asked for.
    const usageNull = includeUsage ? { usage: null } : {};
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
      id, object: 'chat.completion.chunk', created, model, service_tier: 'default', system_fingerprint: 'fp_fake0001',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...usageNull,
    });
    data(chunk({ role: 'assistant', content: calls.length && !replyText(reply) ? null : '', refusal: null }, null));
    for (const p of textPieces(reply)) data(chunk({ content: p }, null));
    calls.forEach((c, index) => {
      data(chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }, null));
      for (const a of split(c.arguments, size)) data(chunk({ tool_calls: [{ index, function: { arguments: a } }] }, null));
    });
    data(chunk({}, finish));
    if (includeUsage) data({ id, object: 'chat.completion.chunk', created, model, service_tier: 'default', system_fingerprint: 'fp_fake0001', choices: [], usage: chatUsage(flavor, t) });
  }
  frames.push('data: [DONE]\n\n');

  const message = reply.errorMessage ?? 'upstream failed mid-stream';
  const errorFrames = (): string[] => {
    if (flavor === 'vllm') {
      // vLLM: json.dumps (Python separators) of ErrorResponse, then [DONE].
      return [`data: ${pyJson({ error: { message, type: 'BadRequestError', param: null, code: 400 } })}\n\n`, 'data: [DONE]\n\n'];
    }
    return [`data: ${JSON.stringify(errorBody(flavor, 500, message))}\n\n`];
  };
  await streamFrames(flavor, ex, reply, frames, errorFrames);
}

// ── Responses API (native) ───────────────────────────────────────────────────

async function answerResponses(flavor: Flavor, ex: Exchange, reply: Reply): Promise<void> {
  if (!(await preamble(flavor, ex, reply))) return;
  const body = ex.rec.body as Record<string, unknown>;
  const t = tokens(reply, body);
  const base = responseSkeleton(body);
  for (const [key, value] of Object.entries(reply.responseFields ?? {})) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  const text = replyText(reply);
  const finish = finishReasonOf(reply);
  const incomplete = finish === 'length' || finish === 'content_filter';
  const itemStatus = incomplete ? 'incomplete' : 'completed';

  const reasoningItem = reply.reasoning !== undefined
    ? { id: `rs_up${hex(24)}`, type: 'reasoning', summary: [{ type: 'summary_text', text: reply.reasoning }] }
    : undefined;
  const hasMessage = reply.text !== undefined || reply.deltas !== undefined || !reply.toolCalls?.length;
  const messageItem = hasMessage
    ? { id: `msg_up${hex(24)}`, type: 'message', status: itemStatus, content: [outputText(text)], role: 'assistant' }
    : undefined;
  const callItems = (reply.toolCalls ?? []).map((c) => (c.custom
    ? { id: `ctc_up${hex(24)}`, type: 'custom_tool_call', status: 'completed', call_id: c.id ?? `call_${alnum(24)}`, name: c.name, input: c.arguments }
    : { id: `fc_up${hex(24)}`, type: 'function_call', status: 'completed', arguments: c.arguments, call_id: c.id ?? `call_${alnum(24)}`, name: c.name }));
  const output = [reasoningItem, messageItem, ...callItems].filter((x) => x !== undefined);
  const usage = {
    input_tokens: t.prompt,
    input_tokens_details: { cached_tokens: t.cached },
    output_tokens: t.completion,
    output_tokens_details: { reasoning_tokens: t.reasoning },
    total_tokens: t.prompt + t.completion,
  };
  const final = {
    ...base,
    status: incomplete ? 'incomplete' : 'completed',
    completed_at: incomplete ? null : Math.floor(Date.now() / 1000),
    incomplete_details: incomplete ? { reason: finish === 'length' ? 'max_output_tokens' : 'content_filter' } : null,
    output,
    usage,
  };

  if (body.stream !== true) return sendBody(ex, reply, JSON.stringify(final));

  const streamOptions = body.stream_options as { include_obfuscation?: boolean } | undefined;
  const obfuscate = streamOptions?.include_obfuscation !== false;
  const obf = () => (obfuscate ? { obfuscation: alnum(randomInt(2, 12)) } : {});
  const frames: string[] = [];
  let seq = 0;
  const event = (type: string, fields: Record<string, unknown>) => {
    frames.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...fields })}\n\n`);
  };
  const size = reply.chunkSize;

  event('response.created', { response: base });
  event('response.in_progress', { response: base });
  output.forEach((item, output_index) => {
    if (item === reasoningItem && reasoningItem) {
      const item_id = reasoningItem.id;
      const summary = reasoningItem.summary[0].text;
      event('response.output_item.added', { output_index, item: { id: item_id, type: 'reasoning', summary: [] } });
      event('response.reasoning_summary_part.added', { item_id, output_index, summary_index: 0, part: { type: 'summary_text', text: '' } });
      for (const d of split(summary, size)) event('response.reasoning_summary_text.delta', { item_id, output_index, summary_index: 0, delta: d, ...obf() });
      event('response.reasoning_summary_text.done', { item_id, output_index, summary_index: 0, text: summary });
      event('response.reasoning_summary_part.done', { item_id, output_index, summary_index: 0, part: { type: 'summary_text', text: summary } });
      event('response.output_item.done', { output_index, item: reasoningItem });
    } else if (item === messageItem && messageItem) {
      const item_id = messageItem.id;
      event('response.output_item.added', { output_index, item: { id: item_id, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
      event('response.content_part.added', { item_id, output_index, content_index: 0, part: outputText('') });
      for (const d of textPieces(reply)) event('response.output_text.delta', { item_id, output_index, content_index: 0, delta: d, logprobs: [], ...obf() });
      event('response.output_text.done', { item_id, output_index, content_index: 0, text, logprobs: [] });
      event('response.content_part.done', { item_id, output_index, content_index: 0, part: outputText(text) });
      event('response.output_item.done', { output_index, item: messageItem });
    } else {
      const call = item as (typeof callItems)[number] & { arguments?: string; input?: string };
      if (call.type === 'custom_tool_call') {
        event('response.output_item.added', { output_index, item: { ...call, status: 'in_progress', input: '' } });
        for (const d of split(call.input!, size)) event('response.custom_tool_call_input.delta', { item_id: call.id, output_index, delta: d, ...obf() });
        event('response.custom_tool_call_input.done', { item_id: call.id, output_index, input: call.input });
        event('response.output_item.done', { output_index, item: call });
        return;
      }
      event('response.output_item.added', { output_index, item: { ...call, status: 'in_progress', arguments: '' } });
      for (const d of split(call.arguments!, size)) event('response.function_call_arguments.delta', { item_id: call.id, output_index, delta: d, ...obf() });
      event('response.function_call_arguments.done', { item_id: call.id, output_index, name: call.name, arguments: call.arguments });
      event('response.output_item.done', { output_index, item: call });
    }
  });
  event(incomplete ? 'response.incomplete' : 'response.completed', { response: final });

  const message = reply.errorMessage ?? 'upstream failed mid-stream';
  const failedFrame = (sequence_number: number): string[] => {
    const failed = { ...base, status: 'failed', error: { code: 'server_error', message } };
    return [`event: response.failed\ndata: ${JSON.stringify({ type: 'response.failed', sequence_number, response: failed })}\n\n`];
  };
  await streamFrames(flavor, ex, reply, frames, failedFrame);
}

const outputText = (text: string) => ({ type: 'output_text', annotations: [], logprobs: [], text });

/** The Response object as OpenAI returns it while in progress, echoing the request's settings. */
function responseSkeleton(body: Record<string, unknown>): Record<string, unknown> {
  const pick = (key: string, dflt: unknown): unknown => (body[key] === undefined ? dflt : body[key]);
  return {
    id: `resp_up${hex(24)}`,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'in_progress',
    background: pick('background', false),
    completed_at: null,
    error: null,
    incomplete_details: null,
    instructions: pick('instructions', null),
    max_output_tokens: pick('max_output_tokens', null),
    max_tool_calls: pick('max_tool_calls', null),
    model: pick('model', 'gpt-4o-mini'),
    output: [],
    parallel_tool_calls: pick('parallel_tool_calls', true),
    previous_response_id: pick('previous_response_id', null),
    prompt_cache_key: pick('prompt_cache_key', null),
    reasoning: pick('reasoning', { effort: null, summary: null }),
    safety_identifier: pick('safety_identifier', null),
    service_tier: 'default',
    store: pick('store', true),
    temperature: pick('temperature', 1),
    text: pick('text', { format: { type: 'text' }, verbosity: 'medium' }),
    tool_choice: pick('tool_choice', 'auto'),
    tools: pick('tools', []),
    top_logprobs: pick('top_logprobs', 0),
    top_p: pick('top_p', 1),
    truncation: pick('truncation', 'disabled'),
    usage: null,
    user: pick('user', null),
    metadata: pick('metadata', {}),
  };
}

// ── models ───────────────────────────────────────────────────────────────────

const MODIFIED_AT = '2025-01-15T10:20:30.123456789Z';

const OLLAMA_DETAILS = { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' };
const digestOf = (name: string): string => createHash('sha256').update(name).digest('hex');

function ollamaModelEntry(name: string) {
  return { name, model: name, modified_at: MODIFIED_AT, size: 2019393189, digest: digestOf(name), details: OLLAMA_DETAILS };
}

function ollamaLoadedEntry(name: string) {
  const expires_at = new Date(Date.now() + 5 * 60_000).toISOString();
  return { name, model: name, size: 3789716480, digest: digestOf(name), details: OLLAMA_DETAILS, expires_at, size_vram: 3789716480, context_length: 4096 };
}

/** Ollama's `model.ParseName(name).Namespace`: "library" unless the name says otherwise. */
function ollamaNamespace(name: string): string {
  const parts = name.split(':')[0].split('/');
  return parts.length >= 3 ? parts[parts.length - 2] : parts.length === 2 ? parts[0] : 'library';
}

function modelList(flavor: Flavor, models: string[]): unknown {
  const created = Math.floor(Date.parse(MODIFIED_AT) / 1000);
  if (flavor === 'ollama') {
    // Go marshals the nil slice of an empty list as null.
    return { object: 'list', data: models.length ? models.map((id) => ({ id, object: 'model', created, owned_by: ollamaNamespace(id) })) : null };
  }
  if (flavor === 'vllm') {
    return {
      object: 'list',
      data: models.map((id) => ({
        id, object: 'model', created: Math.floor(Date.now() / 1000), owned_by: 'vllm', root: id, parent: null, max_model_len: 32768,
        permission: [{
          id: `modelperm-${hex(16)}`, object: 'model_permission', created: Math.floor(Date.now() / 1000), allow_create_engine: false,
          allow_sampling: true, allow_logprobs: true, allow_search_indices: false, allow_view: true, allow_fine_tuning: false,
          organization: '*', group: null, is_blocking: false,
        }],
      })),
    };
  }
  return { object: 'list', data: models.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) };
}

// ── errors ───────────────────────────────────────────────────────────────────

/** The flavor's error body for an HTTP status on /v1/*. */
export function errorBody(flavor: Flavor, status: number, message: string): unknown {
  if (flavor === 'ollama') {
    const type = status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error';
    return { error: { message, type, param: null, code: null } };
  }
  if (flavor === 'vllm') {
    const types: Record<number, string> = { 400: 'BadRequestError', 404: 'NotFoundError', 422: 'UnprocessableEntityError', 500: 'InternalServerError', 501: 'NotImplementedError' };
    const type = types[status] ?? `${(STATUS_CODES[status] ?? 'Unknown').replace(/[^A-Za-z]/g, '')}Error`;
    return { error: { message, type, param: null, code: status } };
  }
  const [type, code] = status === 429 ? ['requests', 'rate_limit_exceeded']
    : status >= 500 ? ['server_error', null]
    : ['invalid_request_error', null];
  return { error: { message, type, param: null, code } };
}

function unauthorizedBody(flavor: Flavor, authorization: string | undefined): unknown {
  if (flavor === 'vllm') return { error: 'Unauthorized' };
  if (flavor === 'ollama') return { error: 'unauthorized' };
  if (!authorization) {
    return { error: { message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", type: 'invalid_request_error', param: null, code: null } };
  }
  return { error: { message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } };
}

function notFoundBody(flavor: Flavor, method: string, path: string): unknown {
  if (flavor === 'vllm') return { detail: 'Not Found' };
  if (flavor === 'ollama') return { error: '404 page not found' };
  return { error: { message: `Invalid URL (${method} ${path})`, type: 'invalid_request_error', param: null, code: null } };
}

// ── small utilities ──────────────────────────────────────────────────────────

function sendJson(res: ServerResponse, status: number, body: unknown, flavor: Flavor = 'openai', trailingNewline = false, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  // OpenAI pretty-prints error bodies (from memory of real answers); the others send compact JSON.
  const text = flavor === 'openai' && status >= 400 ? JSON.stringify(body, null, 4) + '\n' : JSON.stringify(body) + (trailingNewline ? '\n' : '');
  const contentType = flavor === 'ollama' && !trailingNewline ? 'application/json; charset=utf-8' : 'application/json';
  res.writeHead(status, { 'content-type': contentType, ...headers });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try { return JSON.parse(text); } catch { return undefined; }
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

function alnum(n: number, lowerOnly = false): string {
  const abc = lowerOnly ? 'abcdefghijklmnopqrstuvwxyz0123456789' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < n; i++) s += abc[randomInt(abc.length)];
  return s;
}

/** Python's `json.dumps` default output: ", " and ": " separators, non-ASCII escaped. */
export function pyJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${pyJson(k)}: ${pyJson(v)}`).join(', ')}}`;
}
