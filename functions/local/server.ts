import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { installLambdaGlobals, LocalResponseStream, type StreamingHandler } from './lambda-runtime.ts';

// The local server: node:http in front of the very handler Lambda runs. Requests become Function
// URL events (payload 2.0); the handler's streamed answer goes back as it is written.

/** Lambda's request payload limit; a Function URL refuses larger bodies with 413. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function toEvent(req: http.IncomingMessage, body: Buffer) {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
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

function tooLarge(res: http.ServerResponse): void {
  const body = JSON.stringify({ error: { message: `Request body too large: the limit is ${MAX_BODY_BYTES} bytes.`, type: 'invalid_request_error', param: null, code: 'request_too_large' } });
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(body);
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
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
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
      const stream = new LocalResponseStream(res);
      stream.on('error', () => undefined); // a client that left is not our error
      handler(toEvent(req, Buffer.concat(chunks)), stream, { awsRequestId: randomUUID() }).catch((err: unknown) => {
        console.error(JSON.stringify({ level: 'error', msg: 'handler failed', error: String((err as Error)?.stack ?? err) }));
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end();
      });
    });
  });
  server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
