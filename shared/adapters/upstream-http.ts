import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { UPSTREAM_DONE, UpstreamError } from '../ports.ts';
import { basicAuthOf, type Redact } from '../redact.ts';

// A small HTTP client for upstreams: keep-alive agents (a fresh TLS/TCP handshake per request
// would dominate the gateway's overhead), an abort signal, and a time-out that covers both the
// wait for the first byte and every pause between bytes of a stream.

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

export interface HttpCall {
  method: 'GET' | 'POST';
  url: string;
  /** Names in lower case: they override ours (accept, content-type, authorization) by name. */
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** What http.request needs of a URL, worked out once per URL (they are few and fixed). */
interface Target {
  lib: typeof http | typeof https;
  options: http.RequestOptions;
  /** The Host header Node would derive (headers given as an array skip Node's own). */
  host: string;
  basic?: string;
}
const targets = new Map<string, Target>();
function target(raw: string): Target {
  let t = targets.get(raw);
  if (!t) {
    const url = new URL(raw);
    const https_ = url.protocol === 'https:';
    const options: http.RequestOptions = {
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || (https_ ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      agent: agents[https_ ? 'https:' : 'http:'],
    };
    // Credentials in the URL (http://user:pass@host) as Node would send them: Basic auth.
    const token = basicAuthOf(url);
    const basic = token ? `Basic ${token}` : undefined;
    t = { lib: https_ ? https : http, options, host: url.host, basic };
    if (targets.size >= 256) targets.clear();
    targets.set(raw, t);
  }
  return t;
}

/** Resolves when the status line and headers arrived; the body is left to the caller to read. */
export function httpRequest(call: HttpCall): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { lib, options, host, basic } = target(call.url);
    const named: Record<string, string> = { host, accept: 'application/json, text/event-stream', ...(basic && { authorization: basic }), ...call.headers };
    if (call.body !== undefined) {
      named['content-type'] ??= 'application/json';
      named['content-length'] = String(Buffer.byteLength(call.body));
    }
    // Headers as a flat array: Node writes them as they are, without a setHeader (and its
    // validation) per header.
    const headers: string[] = [];
    for (const k in named) headers.push(k, named[k]!);
    if (call.signal?.aborted) return reject(new UpstreamError('upstream request aborted', 0, 'aborted'));
    // The signal is NOT given to http.request: Node would bind it to the socket, which outlives
    // the request in the keep-alive pool, and an abort after the answer ended would then
    // destroy a pooled socket that has no 'error' listener: an uncaught exception. It is bound
    // to this request only, until the request closes.
    const req = lib.request({ ...options, method: call.method, headers: headers as unknown as http.OutgoingHttpHeaders });
    let response: IncomingMessage | undefined;
    if (call.signal) {
      const signal = call.signal;
      const onAbort = () => {
        // The whole answer is in, or all the caller needs of it (a stream's [DONE] came, its
        // chunked-body terminator may still be in flight): nothing to stop, only unread bytes to
        // drop so the socket goes back to the pool. Destroying it would cost the next call a new
        // connection (and race Node's own keep-alive hand-back). A body that never ends is cut by
        // the time-out below.
        if (response && (response.complete || signal.reason === UPSTREAM_DONE)) {
          response.on('error', () => undefined);
          response.resume();
          return;
        }
        const err = new UpstreamError('upstream request aborted', 0, 'aborted');
        response?.destroy(err);
        req.destroy(err);
        reject(err);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    // One socket time-out covers the wait for the first byte and every pause in the body; Node
    // drops it when the socket goes back to the pool.
    if (call.timeoutMs) {
      req.setTimeout(call.timeoutMs, () => {
        const err = new UpstreamError(`upstream ${response ? 'stream stalled' : 'did not answer'} for ${call.timeoutMs} ms`, 0, 'timeout');
        if (response) response.destroy(err);
        req.destroy(err);
        reject(err);
      });
    }
    req.on('response', (res) => {
      response = res;
      resolve(res);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof UpstreamError) return reject(err);
      if (call.signal?.aborted) return reject(new UpstreamError('upstream request aborted', 0, 'aborted'));
      reject(new UpstreamError(`could not reach upstream ${host}: ${err.code ?? err.message}`, 0, 'connect'));
    });
    req.end(call.body);
  });
}

/** How much of an upstream's error body is read: its message is at the start; the rest is dropped with the connection. */
const ERROR_BODY_BYTES = 4096;
/** How long an error body may take to arrive: one that trickles in is cut, and what came is used. */
const ERROR_BODY_WAIT_MS = 5_000;
/** The longest upstream error message passed on (to clients, stored responses and the log). */
const UPSTREAM_MESSAGE_CHARS = 1_000;

export interface ReadLimit {
  /** Bytes read at most. */
  maxBytes: number;
  /** Past `maxBytes` (or `waitMs`): keep what came and drop the rest, instead of failing. */
  truncate?: boolean;
  waitMs?: number;
  /** The config key that sets `maxBytes`, named in the error. */
  key?: string;
}

/**
 * The body as text, at most `maxBytes` of it (listeners rather than an async iterator: a promise
 * per chunk costs more than the chunk). A body that goes past the limit is never held: the
 * response (and its socket) is destroyed at once, and the read fails with a 502 naming the limit,
 * or, with `truncate`, resolves with the first `maxBytes`.
 */
export function readBody(res: Readable, limit: ReadLimit): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const text = () => (chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    const settle = (err?: UpstreamError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(text());
    };
    const cut = (err?: UpstreamError) => {
      settle(err);
      res.on('error', () => undefined);
      res.destroy();
    };
    const fail = (err: unknown) => settle(asUpstreamError(err, 'upstream closed the connection while sending its answer'));
    if (limit.waitMs) timer = setTimeout(() => cut(), limit.waitMs);
    res.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (size + chunk.length <= limit.maxBytes) {
        size += chunk.length;
        chunks.push(chunk);
        return;
      }
      if (!limit.truncate) {
        cut(new UpstreamError(`upstream answer is larger than the limit of ${limit.maxBytes} bytes${limit.key ? ` (${limit.key})` : ''}`, 502, 'protocol'));
        return;
      }
      chunks.push(chunk.subarray(0, limit.maxBytes - size));
      cut();
    });
    res.once('error', fail);
    // 'close' before 'end': the socket went away mid-body (a reset or destroy without an error).
    res.once('close', () => { if (!res.readableEnded) fail(new Error('closed before the end')); });
    res.once('end', () => settle());
  });
}

export function asUpstreamError(err: unknown, message: string): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if ((err as { name?: string }).name === 'AbortError') return new UpstreamError('upstream request aborted', 0, 'aborted');
  return new UpstreamError(message, 0, 'protocol');
}

/**
 * An upstream's non-2xx answer as an UpstreamError carrying its own message (OpenAI's or Ollama's
 * shape): only the first ERROR_BODY_BYTES are read (an endless error body costs nothing), and the
 * message is capped and scrubbed of every configured secret before anyone sees it.
 */
export async function httpError(res: IncomingMessage, redact: Redact): Promise<UpstreamError> {
  const status = res.statusCode ?? 502;
  let text = '';
  try {
    text = await readBody(res, { maxBytes: ERROR_BODY_BYTES, truncate: true, waitMs: ERROR_BODY_WAIT_MS });
  } catch {
    /* the status is enough */
  }
  let message = text || `upstream answered HTTP ${status}`;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const e = body.error;
    if (typeof e === 'string') message = e;
    else if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') message = (e as { message: string }).message;
    else if (typeof body.message === 'string') message = body.message;
  } catch {
    /* not JSON (or cut short): keep the text */
  }
  message = upstreamMessage(message, redact);
  return new UpstreamError(`upstream answered HTTP ${status}: ${message}`, status, 'http', message);
}

/** An upstream's own error text as we pass it on: scrubbed of secrets, then capped. */
export function upstreamMessage(text: string, redact: Redact): string {
  const clean = redact(text);
  return clean.length > UPSTREAM_MESSAGE_CHARS ? `${clean.slice(0, UPSTREAM_MESSAGE_CHARS)}...` : clean;
}
