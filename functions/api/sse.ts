import { Readable } from 'node:stream';
import type { StreamEvent } from '../../shared/protocol/types.ts';
import { encodeEvent } from '../../shared/stream/index.ts';

/**
 * Events as an SSE body. A failure after the body started cannot change the status any more,
 * so it is reported in-band as an `error` event and the stream ends cleanly.
 */
export function sseBody(events: AsyncIterable<StreamEvent>): Readable {
  async function* frames(): AsyncGenerator<string> {
    let last = -1;
    try {
      for await (const event of events) {
        last = event.sequence_number;
        yield encodeEvent(event);
      }
    } catch (err) {
      if ((err as Error)?.name === 'ClientGone') return; // nobody left to tell
      console.error(JSON.stringify({ level: 'error', msg: 'stream failed', error: String((err as Error)?.stack ?? err) }));
      yield encodeEvent({ type: 'error', sequence_number: last + 1, code: 'server_error', message: 'The server had an error while processing your request.', param: null });
    }
  }
  return Readable.from(frames(), { objectMode: false });
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};
