// A Lambda Runtime API (the API that AWS's runtime interface client, aws-lambda-ric, polls for
// events and posts results to), for running our bundles under the real client on this machine.
// Loopback only. What it speaks, as aws-lambda-ric 4 uses it:
//
//   GET  /2018-06-01/runtime/invocation/next          long poll; the event as the body, its id,
//                                                     deadline and function ARN as headers
//   POST /2018-06-01/runtime/invocation/{id}/response buffered: the handler's result as JSON;
//                                                     streaming (Lambda-Runtime-Function-Response-Mode:
//                                                     streaming): chunked, and for an HTTP response
//                                                     the prelude JSON {statusCode, headers, cookies},
//                                                     8 NUL bytes, then the body; a failure after the
//                                                     start comes as the trailers
//                                                     Lambda-Runtime-Function-Error-Type / -Body (base64 JSON)
//   POST /2018-06-01/runtime/invocation/{id}/error    a buffered handler's failure
//   POST /2018-06-01/runtime/init/error               the handler could not be loaded
//
// Each invoke() resolves once with what a Function URL caller would get, and how it came.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ChildProcess } from 'node:child_process';

const BASE = '/2018-06-01/runtime';
const PRELUDE_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER = Buffer.alloc(8);

export interface RuntimeError {
  errorType?: string;
  errorMessage?: string;
  [k: string]: unknown;
}

export interface InvokeResult {
  /**
   * How the result came: `streaming` (the handler carries the streaming marker), `buffered` (it
   * does not), `error` (a buffered handler failed), `init-error`, `exit` (the runtime process
   * died), `timeout`, or `broken` (this emulator cut the response connection, as asked).
   */
  mode: 'streaming' | 'buffered' | 'error' | 'init-error' | 'exit' | 'timeout' | 'broken';
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
  /** The runtime's error: from the error routes, or a streaming response's trailers. */
  error?: RuntimeError;
  /** The POST that carried the result, as received. */
  wire?: { headers: IncomingHttpHeaders; trailers: Record<string, string | undefined> };
}

export interface InvokeOptions {
  /** How long to wait for the result before giving up on it (`timeout`); default 30 s. */
  waitMs?: number;
  /** Destroy the response POST's connection once this many body bytes arrived: the stream to the Runtime API breaks. */
  breakAfterBytes?: number;
}

interface Pending {
  id: string;
  payload: string;
  waitMs: number;
  breakAfterBytes?: number;
  resolve: (r: InvokeResult) => void;
  timer?: NodeJS.Timeout;
  done: boolean;
}

export interface Emulator {
  /** `127.0.0.1:<port>`: AWS_LAMBDA_RUNTIME_API for the runtime process. */
  address: string;
  invoke(event: unknown, opts?: InvokeOptions): Promise<InvokeResult>;
  /** The runtime process: when it exits, what it was doing (or is given next) ends `exit`. */
  attach(child: ChildProcess): void;
  /** Resolves when the runtime waits for an event (it is initialised and idle), now or next. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const empty = (mode: InvokeResult['mode'], error?: RuntimeError): InvokeResult => ({ mode, statusCode: 502, headers: {}, cookies: [], body: Buffer.alloc(0), error });

function parseJson(buf: Buffer): RuntimeError {
  try {
    return JSON.parse(buf.toString('utf8')) as RuntimeError;
  } catch {
    return { errorMessage: buf.toString('utf8') };
  }
}

/**
 * `functionTimeoutMs` is the function's configured timeout: each invocation's deadline (what
 * context.getRemainingTimeInMillis() counts down from), not how long this emulator waits.
 */
export async function startEmulator(opts: { functionName?: string; functionTimeoutMs?: number } = {}): Promise<Emulator> {
  const functionTimeoutMs = opts.functionTimeoutMs ?? 900_000;
  const arn = `arn:aws:lambda:us-east-1:123456789012:function:${opts.functionName ?? 'local'}`;
  const queue: Pending[] = [];
  const polls: ServerResponse[] = [];
  const running = new Map<string, Pending>();
  const pollWaiters: (() => void)[] = [];
  const sockets = new Set<Socket>();
  let dead: RuntimeError | null = null;

  const finish = (p: Pending, r: InvokeResult) => {
    if (p.done) return;
    p.done = true;
    clearTimeout(p.timer);
    running.delete(p.id);
    p.resolve(r);
  };

  const handOut = (res: ServerResponse, p: Pending) => {
    running.set(p.id, p);
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': p.id,
      'lambda-runtime-deadline-ms': String(Date.now() + functionTimeoutMs),
      'lambda-runtime-invoked-function-arn': arn,
      'lambda-runtime-trace-id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=0`,
    });
    res.end(p.payload);
  };

  const onResult = (req: IncomingMessage, res: ServerResponse, p: Pending | undefined, kind: 'response' | 'error' | 'init') => {
    const chunks: Buffer[] = [];
    let size = 0;
    let broken = false;
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (p?.breakAfterBytes !== undefined && size >= p.breakAfterBytes && !broken) {
        broken = true;
        req.socket.destroy();
        finish(p, { ...empty('broken'), body: Buffer.concat(chunks) });
      }
    });
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
      const raw = Buffer.concat(chunks);
      const wire = { headers: req.headers, trailers: req.trailers };
      if (kind === 'init') {
        dead = { errorType: req.headers['lambda-runtime-function-error-type'] as string | undefined, ...parseJson(raw) };
        for (const q of [...queue.splice(0), ...running.values()]) finish(q, { ...empty('init-error', dead), wire });
        return;
      }
      if (!p) return;
      if (kind === 'error') return finish(p, { ...empty('error', parseJson(raw)), wire });
      const streaming = req.headers['lambda-runtime-function-response-mode'] === 'streaming';
      let result: InvokeResult = { mode: streaming ? 'streaming' : 'buffered', statusCode: 200, headers: { 'content-type': String(req.headers['content-type']) }, cookies: [], body: raw, wire };
      if (streaming && req.headers['content-type'] === PRELUDE_TYPE && raw.length > 0) {
        const at = raw.indexOf(DELIMITER);
        if (at < 0) {
          result.error = { errorType: 'Emulator.NoPrelude', errorMessage: 'prelude content type, but no 8-NUL delimiter' };
        } else {
          const prelude = JSON.parse(raw.subarray(0, at).toString('utf8')) as { statusCode?: number; headers?: Record<string, string>; cookies?: string[] };
          result = { ...result, statusCode: prelude.statusCode ?? 200, headers: prelude.headers ?? {}, cookies: prelude.cookies ?? [], body: raw.subarray(at + DELIMITER.length) };
        }
      }
      const errorType = req.trailers['lambda-runtime-function-error-type'];
      if (errorType) {
        const body = req.trailers['lambda-runtime-function-error-body'];
        result.error = { errorType, ...(body ? parseJson(Buffer.from(body, 'base64')) : {}) };
      }
      finish(p, result);
    });
    req.on('error', () => undefined); // a connection we cut ourselves
  };

  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${BASE}/invocation/next`) {
      for (const w of pollWaiters.splice(0)) w();
      const p = queue.shift();
      if (p) return handOut(res, p);
      polls.push(res);
      res.on('close', () => {
        const i = polls.indexOf(res);
        if (i >= 0) polls.splice(i, 1);
      });
      return;
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && m) return onResult(req, res, running.get(decodeURIComponent(m[1]!)), m[2] === 'error' ? 'error' : 'response');
    if (req.method === 'POST' && url === `${BASE}/init/error`) return onResult(req, res, undefined, 'init');
    res.writeHead(404).end();
  });
  // The long poll must not be cut by the server's own time-outs.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    invoke(event, o = {}) {
      return new Promise<InvokeResult>((resolve) => {
        const p: Pending = {
          id: randomUUID(), payload: JSON.stringify(event), waitMs: o.waitMs ?? 30_000, breakAfterBytes: o.breakAfterBytes, resolve, done: false,
        };
        if (dead) return finish(p, empty(dead.errorType === 'Runtime.ExitError' ? 'exit' : 'init-error', dead));
        p.timer = setTimeout(() => finish(p, empty('timeout', { errorType: 'Emulator.Timeout', errorMessage: `no result in ${p.waitMs} ms` })), p.waitMs);
        const poll = polls.shift();
        if (poll) handOut(poll, p);
        else queue.push(p);
      });
    },
    attach(child) {
      child.once('exit', (code, signal) => {
        dead = { errorType: 'Runtime.ExitError', errorMessage: `the runtime exited (code ${code}${signal ? `, signal ${signal}` : ''})` };
        for (const p of [...queue.splice(0), ...running.values()]) finish(p, empty('exit', dead));
      });
    },
    idle: () => new Promise<void>((resolve) => {
      if (polls.length > 0) resolve();
      else pollWaiters.push(resolve);
    }),
    close: async () => {
      for (const p of [...queue.splice(0), ...running.values()]) finish(p, empty('timeout', { errorType: 'Emulator.Closed' }));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
