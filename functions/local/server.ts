import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { SERVER_DEFAULTS, type ServerLimits } from '../../shared/config.ts';
import { log } from '../../shared/log.ts';
import { ApiError, badRequest, toApiError } from '../../shared/protocol/errors.ts';
import { settledWithin } from '../../shared/timing.ts';
import type { FunctionUrlEvent } from '../api/event.ts';
import { headEvent, targetUrl, withBody } from './event.ts';
import { ClientGone, installLambdaGlobals, type StreamingHandler } from './lambda-runtime.ts';

// The local server: node:http in front of the very handler Lambda runs. Requests become Function
// URL events (payload 2.0); the handler's streamed answer goes back as it is written. Unlike a
// Function URL it faces clients directly, so it guards itself: the key is checked from the headers
// before a body is read, connections are capped, slow headers and bodies time out in seconds, and
// a stop drains (no new requests, a grace period for those running, then each is stopped and ends
// with its terminal event).

/** Lambda's request payload limit; a Function URL refuses larger bodies with 413. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

/** After the grace period: how long close() waits for stopped invocations to write their end. */
const STOP_WAIT_MS = 10_000;
/** How long a connection answered before its body was read stays open (unread) before it is dropped. */
const LINGER_MS = 2_000;

/** What the server answers itself, before the handler: from the request line and headers alone. */
export interface EarlyAnswer { statusCode: number; headers?: Record<string, string>; body: string }

const envelope = (err: ApiError): string => JSON.stringify(err.toBody());
const errorAnswer = (err: ApiError): EarlyAnswer => ({ statusCode: err.status, body: envelope(err) });

const tooLarge = (): EarlyAnswer => errorAnswer(new ApiError(413, `Request body too large: the limit is ${MAX_BODY_BYTES} bytes.`, 'invalid_request_error', null, 'request_too_large'));

/**
 * An error answered straight on a socket, where node:http gives no response object (a request it
 * could not parse, a CONNECT, a refused upgrade); the connection is closed once it is written.
 */
export function answerOnSocket(socket: Duplex, err: ApiError): void {
  const body = envelope(err);
  socket.on('error', () => undefined); // a peer that already left
  socket.end(
    `HTTP/1.1 ${err.status} ${http.STATUS_CODES[err.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** What node:http's own answers to unparsable requests would be, in OpenAI's envelope. */
const CLIENT_ERRORS: Record<string, [status: number, message: string, code: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request line and headers too large.', 'request_header_too_large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Chunk extensions too large.', 'request_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request was not received in time.', 'request_timeout'],
};

/**
 * Replaces node:http's default `clientError` answer (a bare `400 Bad Request`, no body): the same
 * statuses, with an envelope body. Like the default, it answers only when no response has begun on
 * the socket (else the bytes would corrupt it), then closes the connection.
 */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, message, code] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'The request is not valid HTTP.', 'invalid_request'];
  answerOnSocket(socket, new ApiError(status, message, 'invalid_request_error', null, code));
}

/**
 * A lingering close, for a connection answered before its body was read: node:http would end it
 * and destroy it at once, and a socket closed with unread bytes sends a reset that can reach the
 * client before it has read our answer (it then sees ECONNRESET, not the 401). Instead the answer
 * and our FIN go out, reading stops (the rest of the body is never read: no memory, no CPU), and
 * the socket is dropped LINGER_MS later, or when the client closes it.
 */
function linger(socket: Duplex): void {
  // node:http's own 'finish' handler ran first and asked for the destroy once our FIN is out.
  socket.removeListener('finish', socket.destroy);
  socket.pause();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

export interface LocalServer {
  url: string;
  port: number;
  server: http.Server;
  /**
   * Stops taking requests (new connections are refused, requests on open ones get 503), lets
   * those running go on for `graceMs` (default: the limits' shutdownGraceMs), then stops them:
   * each ends as a stopped request does, with its terminal event (stored when it is stored).
   */
  close(graceMs?: number): Promise<void>;
}

export interface ServerOptions {
  port?: number;
  host?: string;
  loadHandler: () => Promise<StreamingHandler>;
  limits?: Partial<ServerLimits>;
  /** An answer from the headers alone (a missing or wrong key), or null: the body is then read. */
  preflight?: (event: FunctionUrlEvent) => EarlyAnswer | null;
}

/** The generic 500 (nothing of the failure is told), as for any unexpected failure. */
const INTERNAL_ERROR = envelope(toApiError(null));
const SHUTTING_DOWN = errorAnswer(new ApiError(503, 'The server is shutting down; send the request again (to another instance).', 'server_error', null, 'server_shutting_down'));

export async function startServer(opts: ServerOptions): Promise<LocalServer> {
  installLambdaGlobals();
  const handler = await opts.loadHandler();
  const limits: ServerLimits = { ...SERVER_DEFAULTS, ...opts.limits };
  // Invocations still running (a stored stream runs on after its client left), each with what
  // stops it: close() waits for them, then stops those left, so what they write reaches DynamoDB.
  const inFlight = new Map<Promise<void>, AbortController>();
  let draining = false;
  // Sockets whose current request was answered before its body was read: if that body never ends,
  // the request time-out must close the socket, not answer a second time.
  const answeredEarly = new WeakSet<Duplex>();
  const early = (req: http.IncomingMessage, res: http.ServerResponse, answer: EarlyAnswer, close = false) => {
    answeredEarly.add(req.socket);
    // Closing: the body is left unread. read(0) marks it as being read, so node:http does not drain
    // it into the void at full speed; once its small buffer is full the socket stops reading.
    if (close) req.read(0);
    res.writeHead(answer.statusCode, { 'content-type': 'application/json', ...answer.headers, ...(close && { connection: 'close' }) }).end(answer.body);
    if (close) res.once('finish', () => linger(req.socket));
  };
  // requireHostHeader off: node:http would answer a missing Host with a bare 400; we send the
  // same 400 below, in the envelope. The time-outs are checked every second (node:http's default
  // is every 30 s, which made a 30 s limit take up to a minute).
  const server = http.createServer({
    keepAliveTimeout: 65_000,
    requireHostHeader: false,
    headersTimeout: limits.headerTimeoutMs,
    requestTimeout: limits.headerTimeoutMs + limits.bodyTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, limits.headerTimeoutMs),
  }, (req, res) => {
    answeredEarly.delete(req.socket);
    if (draining) return early(req, res, SHUTTING_DOWN, true);
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      return early(req, res, errorAnswer(badRequest('An HTTP/1.1 request needs a Host header.', null, 'invalid_request')), true);
    }
    const url = targetUrl(req.url ?? '/');
    if (!url) return early(req, res, errorAnswer(badRequest('The request target is not a valid URL.', null, 'invalid_url')));
    const head = headEvent(req, url);
    // The key before the body: a caller without one costs no memory, whatever it sends.
    const refused = opts.preflight?.(head);
    if (refused) return early(req, res, refused, true);
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return early(req, res, tooLarge(), true);
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES && !rejected) {
        rejected = true;
        early(req, res, tooLarge(), true);
      } else if (!rejected) chunks.push(chunk);
    });
    req.on('end', () => {
      if (rejected) return;
      const gone = new AbortController();
      const stop = new AbortController();
      // 'close' before the answer was finished: the client left (non-stream requests too).
      res.once('close', () => { if (!res.writableFinished) gone.abort(new ClientGone()); });
      const event: FunctionUrlEvent = { ...withBody(head, Buffer.concat(chunks)), clientGone: gone.signal, shutdown: stop.signal };
      res.on('error', () => undefined); // a client that left is not our error
      // The response is the handler's response stream (lambda-runtime.ts, openResponse).
      const run = handler(event, res).catch((err: unknown) => {
        // A client that left is not a failure of ours (a stored stream still ran to its end): its
        // response closed early, and piping a body into it then fails too.
        if (!(err instanceof ClientGone) && !gone.signal.aborted) log.error('handler failed', err as Error);
        if (res.headersSent) res.end();
        else res.writeHead(500, { 'content-type': 'application/json' }).end(INTERNAL_ERROR);
      });
      inFlight.set(run, stop);
      void run.finally(() => inFlight.delete(run));
    });
  });
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (answeredEarly.has(socket)) socket.destroy();
    else onClientError(err, socket);
  });
  // Without these listeners node:http answers an unknown `Expect` with a bare 417 and drops a
  // CONNECT without a word; both get an envelope like every other answer.
  server.on('checkExpectation', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(417, { 'content-type': 'application/json', connection: 'close' }).end(envelope(new ApiError(417, "Only 'Expect: 100-continue' is supported.", 'invalid_request_error', null, 'expectation_failed')));
  });
  server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
    answerOnSocket(socket, new ApiError(405, `Method CONNECT is not allowed on ${req.url}.`, 'invalid_request_error', null, 'method_not_allowed'));
  });
  // A deep accept queue: Node's default (511) overflows when a burst of connections arrives while
  // the loop is busy, and the kernel then resets them (ECONNRESET at the client). The kernel
  // clamps this to net.core.somaxconn.
  server.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1', backlog: 4096 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: async (graceMs = limits.shutdownGraceMs) => {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await settledWithin(Promise.allSettled([...inFlight.keys()]), graceMs);
      for (const stop of inFlight.values()) stop.abort();
      await settledWithin(Promise.allSettled([...inFlight.keys()]), STOP_WAIT_MS);
      server.closeAllConnections();
      await closed;
    },
  };
}
