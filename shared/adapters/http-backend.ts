import type { IncomingMessage } from 'node:http';
import { UpstreamError, type Backend, type Endpoint, type UpstreamCall, type UpstreamEvent } from '../ports.ts';
import { isObj, type ChatChunk, type ChatCompletion, type ChatRequest, type JsonObject } from '../protocol/types.ts';
import { noRedact, type Redact } from '../redact.ts';
import { SseDecoder, SseEventTooLarge, type SseFrame } from '../stream/sse.ts';
import { asUpstreamError, httpError, httpRequest, readBody, upstreamMessage, type ReadLimit } from './upstream-http.ts';

// The Backend port over HTTP: Chat Completions (Ollama, vLLM, llama.cpp) and the Responses API
// (OpenAI). Errors before the first byte are thrown as UpstreamError so routing can retry them.
// Every read is bounded (an answer by maxResponseBytes, a stream event by maxEventBytes, an error
// body by its first few KB), and every text an upstream sends is scrubbed of the configured
// secrets before anything else sees it.

export interface HttpBackendOptions {
  /** A non-stream answer larger than this is a 502 (the connection is dropped, nothing more is read). */
  maxResponseBytes: number;
  /** A stream event larger than this (in characters) fails the stream. */
  maxEventBytes: number;
  /** Scrubs the configured secrets from upstream text. */
  redact: Redact;
}

const chatBase = (ep: Endpoint) => ep.url.replace(/\/v1$/, '');

function authHeaders(ep: Endpoint): Record<string, string> {
  return ep.apiKey ? { authorization: `Bearer ${ep.apiKey}` } : {};
}

/**
 * One call to an endpoint (a JSON body for a POST): the response once it answered 2xx, its body
 * left to the caller; any other status is thrown as the upstream's own error (httpError reads
 * only the first few KB of it).
 */
async function send(ep: Endpoint, method: 'GET' | 'POST', url: string, body: unknown, call: UpstreamCall | undefined, redact: Redact): Promise<IncomingMessage> {
  const json = body === undefined ? {} : { body: JSON.stringify(body) };
  const res = await httpRequest({ method, url, headers: authHeaders(ep), ...json, signal: call?.signal, timeoutMs: call?.timeoutMs });
  if ((res.statusCode ?? 500) >= 300) throw await httpError(res, redact);
  return res;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError('upstream sent a body that is not JSON', 502, 'protocol');
  }
}

/**
 * Frames of an SSE body, a batch per read (one await per read rather than per frame); a reset
 * socket or stall ends the iteration with an UpstreamError.
 */
async function* sseFrames(res: IncomingMessage, maxEventChars: number): AsyncGenerator<SseFrame[]> {
  const decoder = new SseDecoder(maxEventChars);
  res.setEncoding('utf8');
  try {
    // Not destroyed when the reader stops early: after [DONE] the rest of the body (the chunked
    // terminator) is drained instead, so the connection goes back to the pool (upstream-http.ts).
    for await (const text of res.iterator({ destroyOnReturn: false })) {
      const frames = decoder.push(text as string);
      if (frames.length) yield frames;
    }
  } catch (err) {
    if (err instanceof SseEventTooLarge) {
      res.destroy(); // nothing more of it is read
      throw new UpstreamError(`upstream sent a stream event larger than the limit of ${err.limit} characters (max_upstream_event_bytes)`, 502, 'protocol');
    }
    throw asUpstreamError(err, 'upstream closed the stream before it finished');
  }
  yield decoder.end();
}

/**
 * The frames of an SSE body up to `[DONE]`, each made into a T, a batch per socket read. A frame
 * `parse` rejects ends the stream with its error, after the frames before it were delivered.
 * Returns whether `[DONE]` came.
 */
async function* framesAs<T>(res: IncomingMessage, opts: HttpBackendOptions, parse: (data: string, event?: string) => T): AsyncGenerator<T[], boolean> {
  for await (const frames of sseFrames(res, opts.maxEventBytes)) {
    const out: T[] = [];
    try {
      for (const frame of frames) {
        if (frame.data === '[DONE]') {
          if (out.length) yield out;
          return true;
        }
        out.push(parse(opts.redact(frame.data), frame.event));
      }
    } catch (err) {
      if (out.length) yield out;
      throw err;
    }
    if (out.length) yield out;
  }
  return false;
}

const isText = (v: unknown) => v === undefined || v === null || typeof v === 'string';

/**
 * What is wrong with a chat chunk (or a completion's choice list) that parsed as JSON but is not
 * one, or null. The translator trusts these shapes: anything else is the upstream's protocol
 * error (a 502 before the first byte, response.failed after), never a crash or a silent drop.
 */
function chatShapeProblem(body: unknown, part: 'delta' | 'message'): string | null {
  if (!isObj(body)) return 'not an object';
  if (body.choices === undefined && part === 'delta') return null; // a usage-only chunk
  if (!Array.isArray(body.choices)) return 'choices is not an array';
  for (const choice of body.choices) {
    if (!isObj(choice)) return 'a choice is not an object';
    const d = choice[part];
    if (d === undefined && part === 'delta') continue;
    if (!isObj(d)) return `${part} is not an object`;
    for (const key of ['content', 'refusal', 'reasoning', 'reasoning_content']) if (!isText(d[key])) return `${part}.${key} is not a string`;
    if (d.tool_calls !== undefined && d.tool_calls !== null && !Array.isArray(d.tool_calls)) return `${part}.tool_calls is not an array`;
  }
  return null;
}

/** One chunk of a chat stream, checked: anything else is the upstream's protocol error. */
function chatChunkOf(data: string): ChatChunk {
  let chunk: ChatChunk & { error?: unknown };
  try {
    chunk = JSON.parse(data);
  } catch {
    throw new UpstreamError('upstream sent a malformed stream chunk', 502, 'protocol');
  }
  if (!isObj(chunk)) throw new UpstreamError('upstream sent a malformed stream chunk: not an object', 502, 'protocol');
  const err = inStreamError(chunk);
  if (err) throw err;
  const problem = chatShapeProblem(chunk, 'delta');
  if (problem) throw new UpstreamError(`upstream sent a malformed stream chunk: ${problem}`, 502, 'protocol');
  return chunk;
}

function inStreamError(data: { error?: unknown }): UpstreamError | null {
  const e = data.error;
  if (!e) return null;
  // Scrubbed with the rest of the frame already: only capped here.
  const message = upstreamMessage(typeof e === 'string' ? e : String((e as { message?: unknown }).message ?? 'upstream error'), noRedact);
  return new UpstreamError(`upstream reported an error mid-stream: ${message}`, 502, 'protocol', message);
}

export class HttpBackend implements Backend {
  private readonly answerLimit: ReadLimit;

  constructor(private readonly opts: HttpBackendOptions) {
    this.answerLimit = { maxBytes: opts.maxResponseBytes, key: 'max_upstream_response_bytes' };
  }

  /** A POST whose answer is a stream, read by the caller. */
  private post(ep: Endpoint, url: string, body: unknown, call?: UpstreamCall): Promise<IncomingMessage> {
    return send(ep, 'POST', url, body, call, this.opts.redact);
  }

  /** A call whose whole answer is JSON: bounded, scrubbed, parsed. */
  private async json(ep: Endpoint, method: 'GET' | 'POST', url: string, body: unknown, call?: UpstreamCall): Promise<unknown> {
    const res = await send(ep, method, url, body, call, this.opts.redact);
    return parseJson(this.opts.redact(await readBody(res, this.answerLimit)));
  }

  /**
   * A tokenizer call: its JSON object, or null when the server has no such route or will not count
   * this (any HTTP error: the count is then estimated). An unreachable server is thrown, as for a chat.
   */
  private async tokenizer(ep: Endpoint, url: string, body: unknown, call?: UpstreamCall): Promise<Record<string, unknown> | null> {
    let res: IncomingMessage;
    try {
      res = await send(ep, 'POST', url, body, call, this.opts.redact);
    } catch (err) {
      if (err instanceof UpstreamError && err.kind === 'http') return null;
      throw err;
    }
    const text = await readBody(res, this.answerLimit);
    try {
      const answer: unknown = JSON.parse(text);
      return isObj(answer) ? answer : null;
    } catch {
      return null;
    }
  }

  async chat(ep: Endpoint, req: ChatRequest, call?: UpstreamCall): Promise<ChatCompletion> {
    const body = (await this.json(ep, 'POST', `${chatBase(ep)}/v1/chat/completions`, { ...req, stream: false }, call)) as ChatCompletion;
    const problem = chatShapeProblem(body, 'message');
    if (problem) throw new UpstreamError(`upstream sent a malformed answer: ${problem}`, 502, 'protocol');
    return body;
  }

  async *chatStream(ep: Endpoint, req: ChatRequest, call?: UpstreamCall): AsyncGenerator<ChatChunk[]> {
    const res = await this.post(ep, `${chatBase(ep)}/v1/chat/completions`, req, call);
    let finished = false;
    const done = yield* framesAs(res, this.opts, (data) => {
      const chunk = chatChunkOf(data);
      if (chunk.choices?.some((c) => c.finish_reason)) finished = true;
      return chunk;
    });
    // Some servers omit [DONE]; a finish_reason is then proof the answer is whole.
    if (!done && !finished) throw new UpstreamError('upstream closed the stream before it finished', 502, 'protocol');
  }

  async responses(ep: Endpoint, body: JsonObject, call?: UpstreamCall): Promise<JsonObject> {
    const answer = await this.json(ep, 'POST', `${ep.url}/responses`, { ...body, stream: false }, call);
    if (!isObj(answer) || !Array.isArray(answer.output)) throw new UpstreamError('upstream answer is not a Response object', 502, 'protocol');
    return answer as JsonObject;
  }

  async *responsesStream(ep: Endpoint, body: JsonObject, call?: UpstreamCall): AsyncGenerator<UpstreamEvent[]> {
    const res = await this.post(ep, `${ep.url}/responses`, { ...body, stream: true }, call);
    yield* framesAs(res, this.opts, (text, event) => {
      let data: JsonObject;
      try {
        data = JSON.parse(text);
      } catch {
        throw new UpstreamError('upstream sent a malformed stream event', 502, 'protocol');
      }
      return event ? { event, data } : { data };
    });
  }

  async countTokens(ep: Endpoint, req: ChatRequest, call?: UpstreamCall): Promise<number | null> {
    if (ep.tokenizer === 'none') return null;
    const base = chatBase(ep);
    const tools = req.tools?.length ? { tools: req.tools } : {};
    if (ep.tokenizer !== 'llama.cpp') {
      // vLLM: /tokenize in its chat form renders the model's template (tools included) and counts.
      const answer = await this.tokenizer(ep, `${base}/tokenize`, { model: req.model, messages: req.messages, ...tools, add_generation_prompt: true }, call);
      if (typeof answer?.count === 'number') return answer.count;
      // llama.cpp answers `{tokens}` for the `content` it did not get: it renders the template apart.
      if (!Array.isArray(answer?.tokens)) return null;
    }
    const rendered = await this.tokenizer(ep, `${base}/apply-template`, { model: req.model, messages: req.messages, ...tools }, call);
    if (typeof rendered?.prompt !== 'string') return null;
    const counted = await this.tokenizer(ep, `${base}/tokenize`, { model: req.model, content: rendered.prompt }, call);
    return Array.isArray(counted?.tokens) ? counted.tokens.length : null;
  }

  async responsesJson(ep: Endpoint, path: 'input_tokens' | 'compact', body: JsonObject, call?: UpstreamCall): Promise<JsonObject> {
    const answer = await this.json(ep, 'POST', `${ep.url}/responses/${path}`, body, call);
    if (!isObj(answer)) throw new UpstreamError(`upstream answer to /responses/${path} is not an object`, 502, 'protocol');
    return answer as JsonObject;
  }

  async listModels(ep: Endpoint, call?: UpstreamCall): Promise<string[]> {
    if (ep.kind === 'responses') return openAiModelIds(await this.json(ep, 'GET', `${ep.url}/models`, undefined, call));
    try {
      const tags = (await this.json(ep, 'GET', `${chatBase(ep)}/api/tags`, undefined, call)) as { models?: Array<{ name?: string; model?: string }> };
      if (Array.isArray(tags?.models)) return tags.models.map((m) => m.name ?? m.model ?? '').filter(Boolean);
    } catch (err) {
      if (err instanceof UpstreamError && err.kind !== 'http') throw err;
    }
    // vLLM and llama.cpp have no /api/tags; both list models the OpenAI way.
    return openAiModelIds(await this.json(ep, 'GET', `${chatBase(ep)}/v1/models`, undefined, call));
  }

  async listLoaded(ep: Endpoint, call?: UpstreamCall): Promise<string[] | null> {
    if (ep.kind === 'responses') return null;
    try {
      const ps = (await this.json(ep, 'GET', `${chatBase(ep)}/api/ps`, undefined, call)) as { models?: Array<{ name?: string; model?: string }> };
      return Array.isArray(ps?.models) ? ps.models.map((m) => m.name ?? m.model ?? '').filter(Boolean) : null;
    } catch (err) {
      // No /api/ps (vLLM, llama.cpp): the server keeps what it lists loaded.
      if (err instanceof UpstreamError && err.kind === 'http' && err.status < 500) return null;
      throw err;
    }
  }
}

function openAiModelIds(body: unknown): string[] {
  const data = (body as { data?: Array<{ id?: string }> })?.data;
  if (!Array.isArray(data)) throw new UpstreamError('upstream model list has no data', 502, 'protocol');
  return data.map((m) => m.id ?? '').filter(Boolean);
}
