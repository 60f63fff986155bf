import type { Writable } from 'node:stream';
import { ServerResponse } from 'node:http';

// What the Lambda Node.js runtime gives a RESPONSE_STREAM function, provided over node:http:
// `awslambda.streamifyResponse` and `awslambda.HttpResponseStream.from`.

/** The client closed the connection: not a failure of ours. */
export class ClientGone extends Error {
  constructor() {
    super('client disconnected');
    this.name = 'ClientGone';
  }
}

interface Prelude { statusCode?: number; headers?: Record<string, string> }

/** A response stream of our own that takes the prelude itself (the WebSocket relay's). */
interface PreludeStream extends Writable { setPrelude(prelude: Prelude): void }

/**
 * `awslambda.HttpResponseStream.from`, locally: the head is set on the node:http response, which
 * is itself the stream the handler writes to (pipeline writes to it as to any writable stream).
 * Not a Writable of our own around it: a Writable made per request kept every object of the
 * request alive through a scavenge (5 KB promoted per request, against 90 B without it: the
 * scavenges' pauses made the tail at 2,000 req/s; docs/benchmarks.md, "Garbage collection at
 * 2,000 req/s").
 *
 * What is written in this tick leaves in one socket write: the head with the body and a JSON
 * answer's end. The socket is corked, not the response: on Node 24 a corked ServerResponse loses
 * body bytes (a flushHeaders() before the body, or writes that wait for 'drain').
 */
function openResponse(stream: ServerResponse | PreludeStream, prelude: Prelude): Writable | ServerResponse {
  if (!(stream instanceof ServerResponse)) {
    stream.setPrelude(prelude);
    return stream;
  }
  const socket = stream.socket;
  if (socket && !socket.writableCorked) {
    socket.cork();
    process.nextTick(() => socket.uncork());
  }
  stream.writeHead(prelude.statusCode ?? 200, prelude.headers ?? {});
  stream.flushHeaders(); // a stream's head goes out now, not with its first event
  return stream;
}

/** A RESPONSE_STREAM handler as the local server calls it: without Lambda's context object (app.ts reads none). */
export type StreamingHandler = (event: unknown, stream: Writable) => Promise<void>;

/** Installs the `awslambda` global; must run before the handler module is imported. */
export function installLambdaGlobals(): void {
  // The AWS SDK may already have made an empty `awslambda` object (for its InvokeStore).
  const g = globalThis as { awslambda?: Record<string, unknown> };
  const lambda = (g.awslambda ??= {});
  lambda.streamifyResponse ??= (fn: StreamingHandler) => fn;
  lambda.HttpResponseStream ??= { from: openResponse };
}
