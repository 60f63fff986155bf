import { ApiError, badRequest, toApiError } from '../../shared/protocol/errors.ts';
import { parseCreateRequest } from '../../shared/protocol/request-fields.ts';
import { parseJsonBody } from '../../shared/protocol/validate.ts';
import { log } from '../../shared/log.ts';
import { createResponse } from '../../shared/service/create.ts';
import { deleteResponse, listInputItems, replayResponse, retrieveResponse } from '../../shared/service/read.ts';
import { cancelResponse } from '../../shared/service/cancel.ts';
import { cacheStats } from '../../shared/service/cache.ts';
import { listModels, retrieveModel } from '../../shared/service/models.ts';
import { countInputTokens } from '../../shared/service/input-tokens.ts';
import { compactConversation } from '../../shared/service/compact.ts';
import { linkedAbort } from '../../shared/service/backend-path.ts';
import { parseCompactRequest, parseCountRequest } from '../../shared/protocol/side-requests.ts';
import {
  createConversation, createItems, deleteConversation, deleteItem, listItems, retrieveConversation, retrieveItem, updateConversation,
} from '../../shared/service/conversations.ts';
import { parseCreateConversation, parseCreateItems, parseUpdateConversation } from '../../shared/protocol/conversation.ts';
import type { Services } from '../../shared/service/context.ts';
import type { StreamEvent } from '../../shared/protocol/types.ts';
import type { CreateRequest } from '../../shared/protocol/request-fields.ts';
import { UpstreamError } from '../../shared/ports.ts';
import { callerOf } from './auth.ts';
import type { FunctionUrlEvent, HandlerResponse } from './event.ts';
import type { RequestRecord } from './request-record.ts';
import { SSE_HEADERS, sseBody } from './sse.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HandlerResponse => ({
  statusCode,
  headers: { ...JSON_HEADERS, ...headers },
  body: Buffer.from(JSON.stringify(body)),
});

export function errorResponse(err: unknown): HandlerResponse {
  const api = toApiError(err);
  if (!(err instanceof ApiError)) log.error('unhandled', err as Error);
  return json(api.status, api.toBody(), api.headers);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text; bytes that are not UTF-8 are a 400, never silently replaced. */
function bodyText(event: FunctionUrlEvent): string {
  if (!event.body) return '';
  if (!event.isBase64Encoded) return event.body;
  try {
    return utf8.decode(Buffer.from(event.body, 'base64'));
  } catch {
    throw badRequest('The request body is not valid UTF-8.', null, 'invalid_body');
  }
}

/** A path segment as sent; a malformed escape names no response we have. */
function pathSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function query(event: FunctionUrlEvent, name: string): string | null {
  return event.queryStringParameters?.[name] ?? null;
}

function flag(event: FunctionUrlEvent, name: string): boolean {
  const v = query(event, name);
  return v === 'true' || v === '1';
}

function sequenceParam(event: FunctionUrlEvent): number | null {
  const v = query(event, 'starting_after');
  if (v === null) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < -1) throw badRequest(`Invalid 'starting_after': expected a sequence number, got '${v}'.`, 'starting_after', 'invalid_value');
  return n;
}

const RESPONSE_PATH = /^\/v1\/responses\/([^/]+)(\/input_items|\/cancel)?\/?$/;
/** `/v1/conversations[/{id}[/items[/{item_id}]]]` */
const CONVERSATION_PATH = /^\/v1\/conversations(?:\/([^/]+)(\/items(?:\/([^/]+))?)?)?\/?$/;

/**
 * What can be answered from the request line and headers alone, before a body is read: a caller
 * without a valid key (the local server asks; on Lambda, IAM has decided before we run).
 */
export function preflight(svc: Services, event: FunctionUrlEvent): { statusCode: number; headers: Record<string, string>; body: string } | null {
  if (event.rawPath === '/health') return null;
  try {
    callerOf(event, svc.config.clientKeys);
    return null;
  } catch (err) {
    const api = toApiError(err);
    return { statusCode: api.status, headers: { ...JSON_HEADERS, ...api.headers }, body: JSON.stringify(api.toBody()) };
  }
}

const CLIENT_LEFT = () => new UpstreamError('The client disconnected before the response finished; it was stopped.', 0, 'aborted');
const SHUT_DOWN = () => new UpstreamError('The gateway shut down before the response finished; it was stopped.', 0, 'aborted');

/** A signal that fires, with its own reason, when any of `sources` does (none: undefined). */
function stopSignal(sources: Array<[AbortSignal | undefined, () => Error]>): AbortSignal | undefined {
  if (!sources.some(([signal]) => signal)) return undefined;
  const controller = new AbortController();
  for (const [signal, reason] of sources) linkedAbort(signal, reason, controller);
  return controller.signal;
}

/**
 * What stops a create: the server shutting down, and the client leaving unless the response is
 * stored and config says stored ones run to their end (on_client_disconnect). For a background
 * create it stops only the live reader.
 */
function createSignal(svc: Services, event: FunctionUrlEvent, req: CreateRequest): AbortSignal | undefined {
  // A background request's signal stops only its live reader, never the job.
  const leaveStops = req.background === true || req.store === false || svc.config.onClientDisconnect === 'abort';
  return stopSignal([[event.shutdown, SHUT_DOWN], [leaveStops ? event.clientGone : undefined, CLIENT_LEFT]]);
}

/** Every route of the API. The handler and the local server both come through here. */
export async function route(svc: Services, event: FunctionUrlEvent, record: RequestRecord): Promise<HandlerResponse> {
  const method = event.requestContext.http.method.toUpperCase();
  const path = event.rawPath;
  try {
    if (path === '/health' && method === 'GET') return json(200, { status: 'ok' });
    const caller = callerOf(event, svc.config.clientKeys);
    record.set({ principal: caller.principal });

    if (path === '/v1/responses' || path === '/v1/responses/') {
      if (method === 'GET' && isWebSocketUpgrade(event)) throw webSocketRefused();
      if (method !== 'POST') throw methodNotAllowed(method, path);
      const req = parseCreateRequest(parseJsonBody(bodyText(event)));
      record.set({ model: req.model, stream: req.stream === true, background: req.background === true });
      const signal = createSignal(svc, event, req);
      const result = await createResponse(svc, caller, req, signal);
      record.set({ endpoint: result.endpoint, cacheHit: result.cached });
      if (result.kind === 'json') record.response(result.body);
      // A stored stream runs to its end even if the client leaves (unless the signal stops it): the
      // answer is kept. A background stream only reads a log the worker writes: it stops.
      const keepGoing = req.store !== false && req.background !== true;
      const res = result.kind === 'json' ? json(200, result.body, result.headers) : sse(result.events, keepGoing, record, result.headers);
      return { ...res, afterSent: result.afterSent };
    }

    if (path === '/v1/responses/input_tokens' || path === '/v1/responses/compact') {
      if (method !== 'POST') throw methodNotAllowed(method, path);
      const body = parseJsonBody(bodyText(event) || '{}');
      if (path.endsWith('/compact')) {
        const { body: compacted, afterSent } = await compactConversation(svc, caller, parseCompactRequest(body), stopSignal([[event.shutdown, SHUT_DOWN], [event.clientGone, CLIENT_LEFT]]));
        return { ...json(200, compacted), afterSent };
      }
      const count = await countInputTokens(svc, caller, parseCountRequest(body));
      return json(200, count, { [TOKEN_COUNT_HEADER]: count.estimated ? 'estimated' : 'exact' });
    }

    if (path === '/v1/models' || path.startsWith('/v1/models/')) {
      if (method !== 'GET') throw methodNotAllowed(method, path);
      // Model names may hold '/' (meta-llama/Llama-3.1-8B-Instruct), sent as is or escaped.
      const id = pathSegment(path.slice('/v1/models/'.length));
      return json(200, path === '/v1/models' || id === '' ? await listModels(svc) : await retrieveModel(svc, id));
    }

    if (path === '/v1/cache/stats') {
      if (method !== 'GET') throw methodNotAllowed(method, path);
      return json(200, await cacheStats(svc, caller));
    }

    const c = CONVERSATION_PATH.exec(path);
    if (c) {
      const id = c[1] === undefined ? undefined : pathSegment(c[1]);
      const itemId = c[3] === undefined ? undefined : pathSegment(c[3]);
      const body = () => parseJsonBody(bodyText(event) || '{}');
      if (id === undefined) {
        if (method !== 'POST') throw methodNotAllowed(method, path);
        return json(200, await createConversation(svc, caller, parseCreateConversation(body())));
      }
      if (!c[2]) {
        if (method === 'GET') return json(200, await retrieveConversation(svc, caller, id));
        if (method === 'POST') return json(200, await updateConversation(svc, caller, id, parseUpdateConversation(body())));
        if (method === 'DELETE') return json(200, await deleteConversation(svc, caller, id));
      } else if (itemId === undefined) {
        if (method === 'POST') return json(200, await createItems(svc, caller, id, parseCreateItems(body())));
        if (method === 'GET') {
          return json(200, await listItems(svc, caller, id, { limit: query(event, 'limit'), order: query(event, 'order'), after: query(event, 'after') }));
        }
      } else {
        if (method === 'GET') return json(200, await retrieveItem(svc, caller, id, itemId));
        if (method === 'DELETE') return json(200, await deleteItem(svc, caller, id, itemId));
      }
      throw methodNotAllowed(method, path);
    }

    const m = RESPONSE_PATH.exec(path);
    if (m) {
      const id = pathSegment(m[1]!);
      const sub = m[2];
      if (!sub && method === 'GET') {
        if (flag(event, 'stream')) {
          // A live reader stops polling when its client leaves (locally: Lambda cannot tell).
          const events = await replayResponse(svc, caller, id, sequenceParam(event), event.clientGone);
          return sse(events, false, record);
        }
        return json(200, await retrieveResponse(svc, caller, id));
      }
      if (!sub && method === 'DELETE') return json(200, await deleteResponse(svc, caller, id));
      if (sub === '/input_items' && method === 'GET') {
        return json(200, await listInputItems(svc, caller, id, {
          limit: query(event, 'limit'), order: query(event, 'order'), after: query(event, 'after'), before: query(event, 'before'),
        }));
      }
      if (sub === '/cancel' && method === 'POST') return json(200, await cancelResponse(svc, caller, id));
      throw methodNotAllowed(method, path);
    }
    throw new ApiError(404, `Invalid URL (${method} ${path})`, 'invalid_request_error', null, 'unknown_url');
  } catch (err) {
    return errorResponse(err);
  }
}

function sse(events: AsyncIterable<StreamEvent[]>, keepGoing: boolean, record: RequestRecord, headers: Record<string, string> = {}): HandlerResponse {
  const { body, settled } = sseBody(events, { keepGoing, observe: (batch) => record.observe(batch) });
  return { statusCode: 200, headers: { ...SSE_HEADERS, ...headers }, body, settled };
}

/** Says whether input_tokens was counted by a tokenizer or estimated (the body says it too: `estimated: true`). */
export const TOKEN_COUNT_HEADER = 'x-gateway-token-count';

/** A WebSocket handshake (`Upgrade` is hop-by-hop and may be stripped on the way: its key is not). */
const isWebSocketUpgrade = (event: FunctionUrlEvent) =>
  event.headers?.upgrade?.toLowerCase() === 'websocket' || event.headers?.['sec-websocket-key'] !== undefined;

/**
 * Here (a Lambda Function URL has no WebSockets; the local server takes the upgrade before this)
 * the answer is 426: Codex switches to HTTP at once on it, where other statuses cost it retries.
 */
function webSocketRefused(): ApiError {
  return new ApiError(426, 'WebSocket mode is not available here: send POST /v1/responses over HTTP (stream: true for events).', 'invalid_request_error', null, 'websocket_not_supported');
}

function methodNotAllowed(method: string, path: string): ApiError {
  return new ApiError(405, `Method ${method} is not allowed on ${path}.`, 'invalid_request_error', null, 'method_not_allowed');
}
