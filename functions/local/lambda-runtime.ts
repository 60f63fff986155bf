import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';

// What the Lambda Node.js runtime gives a RESPONSE_STREAM function, provided over node:http:
// `awslambda.streamifyResponse` and `awslambda.HttpResponseStream.from`. As in Lambda, the status
// line and headers go out on the first write.

/** The client closed the connection: not a failure of ours. */
export class ClientGone extends Error {
  constructor() {
    super('client disconnected');
    this.name = 'ClientGone';
  }
}

interface Prelude { statusCode?: number; headers?: Record<string, string> }

export class LocalResponseStream extends Writable {
  private prelude: Prelude = {};
  private headSent = false;
  private corked = false;

  constructor(private readonly res: ServerResponse) {
    super();
    // A client that goes away destroys the stream, as it would end the Lambda's pipeline.
    res.on('close', () => {
      if (!res.writableFinished) this.destroy(new ClientGone());
    });
  }

  setPrelude(prelude: Prelude): void {
    this.prelude = prelude;
  }

  private sendHead(): void {
    if (this.headSent) return;
    this.headSent = true;
    this.res.writeHead(this.prelude.statusCode ?? 200, this.prelude.headers ?? {});
    this.res.flushHeaders();
  }

  /**
   * What is written in one tick leaves in one socket write: the head (which the handler's empty first
   * write would otherwise send alone) with the body and its end, the events of one upstream read
   * together. A JSON answer took 3 socket writes, now 1 (docs/benchmarks.md, "Hot spots removed").
   * The socket is corked, not the response: on Node 24 a corked ServerResponse loses body bytes
   * (a flushHeaders() before the body, or writes that wait for 'drain').
   */
  private corkTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.res.socket?.cork();
    process.nextTick(() => {
      this.corked = false;
      this.res.socket?.uncork();
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.corkTick();
    this.sendHead();
    if (chunk.length === 0 || this.res.write(chunk)) cb();
    else this.res.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.corkTick();
    this.sendHead();
    this.res.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.res.writableEnded) this.res.destroy();
    cb(err);
  }
}

/** A RESPONSE_STREAM handler as the local server calls it: without Lambda's context object (app.ts reads none). */
export type StreamingHandler = (event: unknown, stream: Writable) => Promise<void>;

/** Installs the `awslambda` global; must run before the handler module is imported. */
export function installLambdaGlobals(): void {
  // The AWS SDK may already have made an empty `awslambda` object (for its InvokeStore).
  const g = globalThis as { awslambda?: Record<string, unknown> };
  const lambda = (g.awslambda ??= {});
  lambda.streamifyResponse ??= (fn: StreamingHandler) => fn;
  lambda.HttpResponseStream ??= {
    from(stream: LocalResponseStream, prelude: Prelude) {
      stream.setPrelude(prelude);
      return stream;
    },
  };
}
