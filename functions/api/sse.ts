import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { StreamEvent } from '../../shared/protocol/types.ts';
import { encodeEvent } from '../../shared/stream/index.ts';

export interface SseBody {
  body: Readable;
  /** Settles when every event was consumed (or dropped): the handler waits for it before it returns. */
  settled: Promise<void>;
}

/**
 * Events as an SSE body, pumped by us rather than pulled by the client: when the client goes
 * away, `keepGoing` decides whether generation runs on to its end (a stored response is then
 * completed and stored, as if the client had stayed) or stops at once (the upstream request is
 * aborted). A failure after the body started cannot change the status any more, so it is
 * reported in-band as an `error` event and the stream ends cleanly.
 */
export function sseBody(events: AsyncIterable<StreamEvent>, opts: { keepGoing: boolean }): SseBody {
  const body = new PassThrough();
  let gone = false;
  body.on('close', () => { if (!body.writableFinished) gone = true; });
  body.on('error', () => { gone = true; });

  async function pump(): Promise<void> {
    const it = events[Symbol.asyncIterator]();
    let last = -1;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        last = r.value.sequence_number;
        if (gone) {
          if (!opts.keepGoing) { await it.return?.(); return; }
          continue;
        }
        if (!body.write(encodeEvent(r.value))) await Promise.race([once(body, 'drain'), once(body, 'close')]);
      }
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', msg: 'stream failed', error: String((err as Error)?.stack ?? err) }));
      if (!gone) body.write(encodeEvent({ type: 'error', sequence_number: last + 1, code: 'server_error', message: 'The server had an error while processing your request.', param: null }));
    } finally {
      if (!gone) body.end();
    }
  }
  return { body, settled: pump() };
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};
