import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { log } from '../../shared/log.ts';
import { ClientGone, installLambdaGlobals, LocalResponseStream, type StreamingHandler } from './lambda-runtime.ts';

// The local server: node:http in front of the very handler Lambda runs. Requests become Function
// URL events (payload 2.0); the handler's streamed answer goes back as it is written.

/** Lambda's request payload limit; a Function URL refuses larger bodies with 413. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

/** How long close() waits for invocations still running. */
const CLOSE_WAIT_MS = 10_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request target as a URL, or null when it cannot be one. Origin-form targets ('/path?q') are
 * put under a fixed origin, so '//x/y' stays a path instead of naming a host (and '//[' cannot
 * throw); absolute-form targets ('http://h/path', as proxies send) keep their own path.
 */
/** A plain path (segments of letters, digits, '_' and '-'; no query, dots or escapes) needs no URL parser. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_-]+)+\/?$/;

function targetUrl(target: string): Pick<URL, 'pathname' | 'search' | 'searchParams'> | null {
  if (PLAIN_PATH.test(target)) return { pathname: target, search: '', searchParams: NO_PARAMS };
  try {
    return new URL(target.startsWith('/') ? `http://local${target}` : target, 'http://local');
  } catch {
    return null;
  }
}

const NO_PARAMS = new URLSearchParams();

function toEvent(req: http.IncomingMessage, url: Pick<URL, 'pathname' | 'search' | 'searchParams'>, body: Buffer) {
  // Null prototypes: a header or parameter named `__proto__` or `constructor` is just a name.
  const headers: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = Object.create(null);
  for (const [k, v] of url.searchParams) query[k] = Object.hasOwn(query, k) ? `${query[k]},${v}` : v;
  let text: string | undefined;
  let isBase64Encoded = false;
  if (body.length) {
    try {
      text = utf8.decode(body);
    } catch {
      text = body.toString('base64');
      isBase64Encoded = true;
    }
  }
  return {
    version: '2.0',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    body: text,
    isBase64Encoded,
    requestContext: { http: { method: req.method ?? 'GET', path: url.pathname, sourceIp: req.socket.remoteAddress }, requestId: randomUUID() },
  };
}

const errorBody = (message: string, code: string, type = 'invalid_request_error'): string =>
  JSON.stringify({ error: { message, type, param: null, code } });

function tooLarge(res: http.ServerResponse): void {
  const body = errorBody(`Request body too large: the limit is ${MAX_BODY_BYTES} bytes.`, 'request_too_large');
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(body);
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
  const body = errorBody(message, code);
  socket.on('error', () => undefined); // a peer that already left
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

export interface LocalServer {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

export async function startServer(opts: { port?: number; host?: string; loadHandler: () => Promise<StreamingHandler> }): Promise<LocalServer> {
  installLambdaGlobals();
  const handler = await opts.loadHandler();
  // Invocations still running (a stored stream runs on after its client left): close() waits
  // for them, so what they write reaches DynamoDB before the caller shuts it down.
  const inFlight = new Set<Promise<void>>();
  // requireHostHeader off: node:http would answer a missing Host with a bare 400; we send the
  // same 400 below, in the envelope.
  const server = http.createServer({ keepAliveTimeout: 65_000, requireHostHeader: false }, (req, res) => {
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      res.writeHead(400, { 'content-type': 'application/json', connection: 'close' }).end(errorBody('An HTTP/1.1 request needs a Host header.', 'invalid_request'));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES && !rejected) {
        rejected = true;
        tooLarge(res);
        req.resume();
      } else if (!rejected) chunks.push(chunk);
    });
    req.on('end', () => {
      if (rejected) return;
      const url = targetUrl(req.url ?? '/');
      if (!url) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(errorBody('The request target is not a valid URL.', 'invalid_url'));
        return;
      }
      const stream = new LocalResponseStream(res);
      stream.on('error', () => undefined); // a client that left is not our error
      const run = handler(toEvent(req, url, Buffer.concat(chunks)), stream, { awsRequestId: randomUUID() }).catch((err: unknown) => {
        // A client that left is not a failure of ours (a stored stream still ran to its end).
        if (!(err instanceof ClientGone)) log.error('handler failed', err as Error);
        if (res.headersSent) res.end();
        else res.writeHead(500, { 'content-type': 'application/json' }).end(errorBody('The server had an error while processing your request.', 'server_error', 'server_error'));
      });
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    });
  });
  server.on('clientError', onClientError);
  // Without these listeners node:http answers an unknown `Expect` with a bare 417 and drops a
  // CONNECT without a word; both get an envelope like every other answer.
  server.on('checkExpectation', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(417, { 'content-type': 'application/json', connection: 'close' }).end(errorBody("Only 'Expect: 100-continue' is supported.", 'expectation_failed'));
  });
  server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
    const body = errorBody(`Method CONNECT is not allowed on ${req.url}.`, 'method_not_allowed');
    socket.on('error', () => undefined);
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`, () => socket.destroy());
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
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, CLOSE_WAIT_MS); });
      await Promise.race([Promise.allSettled([...inFlight]), bound]);
      clearTimeout(timer);
    },
  };
}
