import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { Services } from '../../shared/service/context.ts';
import type { FunctionUrlEvent, HandlerResponse } from './event.ts';
import { RequestRecord } from './request-record.ts';
import { errorResponse, route } from './routes.ts';

/** What the Lambda Node.js runtime provides a RESPONSE_STREAM function (functions/local provides it too). */
interface LambdaStreaming {
  streamifyResponse(fn: (event: FunctionUrlEvent, stream: Writable) => Promise<void>): unknown;
  HttpResponseStream: { from(stream: Writable, prelude: { statusCode: number; headers: Record<string, string> }): Writable };
}
declare const awslambda: LambdaStreaming;

/**
 * The one API handler over the services `services()` gives: a Lambda Function URL in
 * RESPONSE_STREAM mode (handler.ts) and, unchanged, the local server (functions/local provides
 * the `awslambda` streaming globals, which must exist before this is called).
 *
 * Our own few lines rather than a middleware framework's streaming wrapper: a JSON answer is one
 * Buffer written once, and nothing of a request outlives the scavenge (docs/benchmarks.md,
 * "Garbage collection at 2,000 req/s").
 */
export function apiHandler(services: () => Promise<Services>) {
  return awslambda.streamifyResponse(async (event, responseStream) => {
    const record = new RequestRecord(event);
    let res: HandlerResponse;
    try {
      res = await route(await services(), event, record);
    } catch (err) {
      res = errorResponse(err);
    }
    const out = awslambda.HttpResponseStream.from(responseStream, { statusCode: res.statusCode, headers: res.headers });
    try {
      if (Buffer.isBuffer(res.body)) {
        // write, then end: the Lambda runtime puts the prelude before the first write() only.
        out.write(res.body);
        out.end();
        await finished(out); // rejects when the client left first
      } else {
        out.write(''); // the head goes out now, not with the first event
        await pipeline(res.body, out);
      }
    } finally {
      // A stored stream is still generated to its end and stored before the invocation ends,
      // though the client left.
      await res.settled;
      await res.afterSent?.();
      record.end(res.statusCode);
    }
  });
}
