// WebSocket mode on the local server (`GET /v1/responses` with `Upgrade: websocket`), as OpenAI
// serves it and its clients speak it (the openai SDK's ResponsesWS, Codex's built-in provider):
// each `response.create` frame is a POST /v1/responses with `stream: true`, run through the very
// handler HTTP requests go to (validation, routing, storage, the request log: all the same), its
// events sent back one text frame each. Responses on one socket run one after another. A
// `previous_response_id` may name the socket's last response even when it was not stored
// (`store: false`, as Codex sends): that one is kept in memory for its socket only, as OpenAI does.
// `generate: false` (Codex's prewarm) prepares such a response without calling a model.
// Lambda has no WebSockets: there the handler answers the handshake with 426 (routes.ts).
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ApiError, toApiError } from '../../shared/protocol/errors.ts';
import { newId } from '../../shared/protocol/ids.ts';
import { parseCreateRequest } from '../../shared/protocol/request-fields.ts';
import { newResponseObject } from '../../shared/protocol/response.ts';
import type { InputItem, ResponseObject } from '../../shared/protocol/types.ts';
import { SseDecoder } from '../../shared/stream/sse.ts';
import { responseToEvents } from '../../shared/stream/replay.ts';
import { TERMINAL_EVENT_TYPES } from '../../shared/stream/events.ts';
import { normalizeInputItems, outputItemsToInputItems } from '../../shared/translate/index.ts';
import { log } from '../../shared/log.ts';
import { callerOf } from '../api/auth.ts';
import { ClientGone, type StreamingHandler } from './lambda-runtime.ts';
import { answerOnSocket, MAX_BODY_BYTES } from './server.ts';

/** Frames a socket may have waiting behind the response that runs (each up to 6 MB): a client that floods is cut off. */
const MAX_QUEUED = 8;
/** Headers of the handshake that are not the client's to pass on to each request. */
const HANDSHAKE = /^(connection|upgrade|sec-websocket-.*|content-length|transfer-encoding|host)$/i;

const isResponsesSocket = (req: http.IncomingMessage) =>
  req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket' && /^\/v1\/responses\/?(\?.*)?$/.test(req.url ?? '');

/** Serves WebSocket mode on `server`; `close()` ends every socket (before the server closes: they would hold it open). */
export function attachWebSockets(server: http.Server, handler: StreamingHandler, clientKeys: Map<string, string>): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  // Any other upgrade (h2c, a WebSocket elsewhere) is an ordinary request, answered as one (Node 24).
  (server as http.Server & { shouldUpgradeCallback: (req: http.IncomingMessage) => boolean }).shouldUpgradeCallback = isResponsesSocket;
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    try {
      if (!isResponsesSocket(req)) throw new ApiError(404, `No WebSocket is served on ${req.url}.`, 'invalid_request_error', null, 'unknown_url');
      callerOf({ rawPath: '/v1/responses', headers: req.headers as Record<string, string>, requestContext: { http: { method: 'GET' } } }, clientKeys);
    } catch (err) {
      answerOnSocket(socket, toApiError(err));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => new Connection(ws, req, handler));
  });
  return { close: () => { for (const ws of wss.clients) ws.terminate(); wss.close(); } };
}

/** The last response of a socket that was not stored, as the items a continuation needs. */
interface Kept { id: string; items: InputItem[] }

class Connection {
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private kept: Kept | null = null;
  private readonly headers: Record<string, string> = {};

  constructor(private readonly ws: WebSocket, req: http.IncomingMessage, private readonly handler: StreamingHandler) {
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HANDSHAKE.test(k)) this.headers[k] = Array.isArray(v) ? v.join(',') : v;
    this.headers['content-type'] = 'application/json';
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (++this.queued > MAX_QUEUED) {
        ws.close(1008, 'too many response.create frames waiting');
        return;
      }
      this.queue = this.queue.then(() => this.onFrame(data, isBinary)).catch((err: unknown) => {
        log.error('websocket frame failed', { error: err as Error });
      }).finally(() => { this.queued--; });
    });
  }

  private send(event: unknown): Promise<void> {
    if (this.ws.readyState !== this.ws.OPEN) return Promise.resolve();
    return new Promise((resolve) => this.ws.send(typeof event === 'string' ? event : JSON.stringify(event), () => resolve()));
  }

  /** OpenAI's WebSocket error event: the HTTP status and envelope a POST would have had (Codex reads `status`). */
  private sendError(err: unknown): Promise<void> {
    const api = toApiError(err);
    const { error } = api.toBody();
    return this.send({ type: 'error', status: api.status, error, code: error.code, message: error.message, param: error.param, sequence_number: 0 });
  }

  private async onFrame(data: RawData, isBinary: boolean): Promise<void> {
    if (this.ws.readyState !== this.ws.OPEN) return; // frames left waiting when the socket closed are dropped
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(isBinary ? '' : data.toString());
      if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) throw new Error('not an object');
    } catch {
      return this.sendError(new ApiError(400, 'Each frame must be a JSON object with a `type` (text frames only).', 'invalid_request_error', null, 'invalid_json'));
    }
    if (frame.type === 'response.processed') return; // Codex's acknowledgement: nothing to answer
    if (frame.type !== 'response.create') {
      return this.sendError(new ApiError(400, `Unsupported event type '${String(frame.type)}': only 'response.create' is served.`, 'invalid_request_error', 'type', 'invalid_value'));
    }
    const { type: _t, generate, stream_id: _lane, ...fields } = frame;
    if (fields.background === true) return this.sendError(new ApiError(400, 'background is not supported over WebSocket.', 'invalid_request_error', 'background', 'invalid_value'));
    const body: Record<string, unknown> = { ...fields, stream: true };
    const kept = this.kept;
    if (kept && body.previous_response_id === kept.id) {
      body.input = [...kept.items, ...normalizeInputItems((body.input ?? []) as string | InputItem[])];
      delete body.previous_response_id;
    }
    try {
      if (generate === false) return await this.prepared(body);
      await this.created(body);
    } catch (err) {
      await this.sendError(err);
    }
  }

  /** A response made without a model (`generate: false`): kept for the next frame to continue. */
  private async prepared(body: Record<string, unknown>): Promise<void> {
    const req = parseCreateRequest(body);
    const response = newResponseObject({ id: newId('resp'), model: req.model, createdAt: Math.floor(Date.now() / 1000), request: { ...req, store: false } });
    this.keep(body, response);
    for (const event of responseToEvents(response)) await this.send(event);
  }

  /** One POST /v1/responses through the handler, its events forwarded as they come. */
  private async created(body: Record<string, unknown>): Promise<void> {
    const sink = new EventSink((data, type) => {
      // The frame's `event:` line names its type: only a terminal event (it carries the response whole) is parsed.
      if (type !== undefined && TERMINAL_EVENT_TYPES.has(type)) {
        const { response } = JSON.parse(data) as { response?: ResponseObject };
        if (response) this.keep(body, response);
      }
      return this.send(data);
    });
    const onClose = () => sink.destroy(new ClientGone());
    this.ws.once('close', onClose);
    const event = {
      version: '2.0', rawPath: '/v1/responses', rawQueryString: '', headers: { ...this.headers }, body: JSON.stringify(body), isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/v1/responses', sourceIp: '127.0.0.1' }, requestId: randomUUID() },
    };
    try {
      await this.handler(event, sink).catch((err: unknown) => { if (!(err instanceof ClientGone)) throw err; });
      await sink.settled();
    } finally {
      this.ws.off('close', onClose);
    }
    if (sink.status !== 200) {
      const error = (JSON.parse(sink.text() || '{}') as { error?: { message?: string; type?: string; param?: string | null; code?: string | null } }).error;
      await this.sendError(new ApiError(sink.status, error?.message ?? 'request failed', error?.type, error?.param ?? null, error?.code ?? null));
    }
  }

  /** A finished response that was not stored is what `previous_response_id` may name next; a stored one is read back from the store. */
  private keep(body: Record<string, unknown>, response: ResponseObject): void {
    this.kept = response.store === false
      ? { id: response.id, items: [...normalizeInputItems((body.input ?? []) as string | InputItem[]), ...outputItemsToInputItems(response.output)] }
      : null;
  }
}

/** What the handler writes, as a Lambda response stream: the prelude, then SSE events passed on one by one (or an error's JSON). */
class EventSink extends Writable {
  status = 200;
  private sse = false;
  private readonly utf8 = new StringDecoder('utf8');
  private readonly decoder = new SseDecoder();
  private readonly chunks: Buffer[] = [];
  private readonly finishedP = new Promise<void>((resolve) => { this.once('finish', resolve); this.once('close', resolve); });

  constructor(private readonly onEvent: (data: string, type: string | undefined) => Promise<void>) {
    super();
  }

  setPrelude(prelude: { statusCode?: number; headers?: Record<string, string> }): void {
    this.status = prelude.statusCode ?? 200;
    this.sse = this.status === 200 && /^text\/event-stream/.test(prelude.headers?.['content-type'] ?? '');
  }

  settled(): Promise<void> {
    return this.finishedP;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.sse) {
      this.chunks.push(chunk);
      return cb();
    }
    const frames = this.decoder.push(this.utf8.write(chunk));
    frames.reduce((p, f) => p.then(() => this.onEvent(f.data, f.event)), Promise.resolve()).then(() => cb(), cb);
  }
}
