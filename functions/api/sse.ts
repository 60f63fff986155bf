import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { StreamEvent } from '../../shared/protocol/types.ts';
import { encodeEvent } from '../../shared/stream/index.ts';
import { log } from '../../shared/log.ts';

export interface SseBody {
  body: Readable;
  /** Settles when every event was consumed (or dropped): the handler waits for it before it returns. */
  settled: Promise<void>;
}

/** Past this many bytes of ready events, they are written without waiting for the end of the tick. */
const FLUSH_BYTES = 64 * 1024;

/**
 * Events as an SSE body, pumped by us rather than pulled by the client: when the client goes
 * away, `keepGoing` decides whether generation runs on to its end (a stored response is then
 * completed and stored, as if the client had stayed) or stops at once (the upstream request is
 * aborted). A failure after the body started cannot change the status any more, so it is
 * reported in-band as an `error` event and the stream ends cleanly.
 */
export function sseBody(events: AsyncIterable<StreamEvent[]>, opts: { keepGoing: boolean; observe?: (batch: readonly StreamEvent[]) => void }): SseBody {
  const body = new PassThrough();
  let gone = false;
  body.on('close', () => { if (!body.writableFinished) gone = true; });
  body.on('error', () => { gone = true; });

  // The events that are ready together (a batch from one upstream read, and any other batch of
  // the same tick) go out as one write: a write per event through the body, the Lambda stream and
  // the socket cost more than the translation itself. A flush is due at the end of the tick, or
  // at once past FLUSH_BYTES.
  let pending = '';
  let flushDue = false;
  let blocked: Promise<unknown> | null = null;
  const flush = (): void => {
    flushDue = false;
    if (!pending) return;
    const chunk = pending;
    pending = '';
    // Encoded whole (complete events), so no character is ever cut in two. Awaited by the pump's
    // next turn, which may never come (the client left): never unhandled.
    if (!gone && !body.write(Buffer.from(chunk))) blocked = Promise.race([once(body, 'drain'), once(body, 'close')]).catch(() => undefined);
  };
  const send = (batch: readonly StreamEvent[]): void => {
    for (const ev of batch) pending += encodeEvent(ev);
    if (pending.length >= FLUSH_BYTES) flush();
    else if (!flushDue) {
      flushDue = true;
      process.nextTick(flush);
    }
  };

  async function pump(): Promise<void> {
    const it = events[Symbol.asyncIterator]();
    let last = -1;
    try {
      for (;;) {
        if (blocked) {
          await blocked;
          blocked = null;
        }
        const r = await it.next();
        if (r.done) break;
        if (r.value.length) last = r.value[r.value.length - 1]!.sequence_number;
        opts.observe?.(r.value);
        if (gone) {
          if (!opts.keepGoing) { await it.return?.(); return; }
          continue;
        }
        send(r.value);
      }
    } catch (err) {
      log.error('stream failed', err as Error);
      if (!gone) send([{ type: 'error', sequence_number: last + 1, code: 'server_error', message: 'The server had an error while processing your request.', param: null }]);
    } finally {
      flush();
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
