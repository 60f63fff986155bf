import type { ResponseObject, StreamEvent } from '../protocol/types.ts';
import { responseToEvents } from '../stream/replay.ts';
import { UPSTREAM_DONE } from '../ports.ts';
import type { Choice } from '../routing/choose-endpoint.ts';
import type { Services } from './context.ts';
import type { Job } from './turn.ts';
import { failureOf } from './upstream-errors.ts';

/** A streamed run whose upstream has already answered (its first chunk is in hand). */
export interface StreamRun {
  /** Batches of events, ending with exactly one terminal event. */
  events: AsyncIterable<StreamEvent[]>;
  /** The Response object as it stands (partial output while streaming). */
  snapshot(): ResponseObject;
  /** True once the terminal event has been produced. */
  finished(): boolean;
  /**
   * Stops the run: the upstream request is aborted and, if its events are being read, they end
   * with response.failed carrying `reason`'s message when it is an UpstreamError.
   */
  abort(reason?: unknown): void;
}

/** One way of reaching a model: translated Chat Completions, or native Responses. */
export interface BackendPath {
  run(svc: Services, choice: Choice, job: Job): Promise<ResponseObject>;
  /** Resolves once the upstream answered; throws (before any byte to the client) if it did not. */
  stream(svc: Services, choice: Choice, job: Job): Promise<StreamRun>;
}

/**
 * An abort signal that fires on the caller's signal (with `reason()`, by default the signal's own
 * reason) and that we can fire ourselves. Given `controller`, links one more signal to that one.
 */
export function linkedAbort(signal?: AbortSignal, reason = (): unknown => signal?.reason, controller = new AbortController()): AbortController {
  if (signal?.aborted) controller.abort(reason());
  else signal?.addEventListener('abort', () => controller.abort(reason()), { once: true });
  return controller;
}

/**
 * A run whose whole answer came at once (a compaction turn), streamed as the events that make
 * it. Until those are read it shows as just started, so it is stored as in_progress first.
 */
export function finishedRun(response: ResponseObject, job: Job): StreamRun {
  let done = false;
  const start = { ...response, status: 'in_progress' as const, output: [], output_text: '', usage: null, completed_at: null };
  const all = responseToEvents(response, { nextSequence: job.resumed ? (job.nextSequence ?? 0) - 1 : job.nextSequence });
  // A background run logged its opening (response.created) already.
  const events = job.resumed ? all.filter((e) => e.type !== 'response.created') : all;
  return {
    events: (async function* () {
      done = true;
      yield events;
    })(),
    snapshot: () => (done ? response : start),
    finished: () => done,
    abort: () => undefined,
  };
}

interface Translator {
  end(): StreamEvent[];
  fail(error: { code: string; message: string }): StreamEvent[];
  readonly response: ResponseObject;
  readonly finished: boolean;
}

/**
 * Drives an upstream's batches through a translator, a batch of events out per batch in (one
 * await per upstream read, not per event): the first batch is awaited before this resolves (so
 * a refused or failing upstream is an HTTP error, not a stream), later failures become
 * response.failed, and stopping early aborts the upstream request.
 */
export async function streamThrough<T>(
  upstream: AsyncIterable<T[]>,
  translator: Translator,
  push: (item: T) => StreamEvent[],
  controller: AbortController,
  opening: () => StreamEvent[] = () => [],
): Promise<StreamRun> {
  const failure = failureOf(controller.signal);
  const it = upstream[Symbol.asyncIterator]();
  const first = await it.next();
  async function* events(): AsyncGenerator<StreamEvent[]> {
    let upstreamEnded = false; // its answer came whole: its connection can be kept for the next call
    try {
      const opened = opening();
      if (opened.length) yield opened;
      for (let r = first; !r.done; r = await it.next()) {
        let batch: StreamEvent[] = []; // the translator's own first array, extended in place
        try {
          for (const item of r.value) {
            const out = push(item);
            if (out.length) batch = batch.length ? (batch.push(...out), batch) : out;
            if (translator.finished) break;
          }
        } catch (err) {
          if (batch.length) yield batch; // sequence numbers already given out stay gap-free
          throw err;
        }
        if (batch.length) yield batch;
        if (translator.finished) break;
      }
      upstreamEnded = true;
      yield translator.end();
    } catch (err) {
      yield translator.fail(failure(err));
    } finally {
      // Stops the upstream if it is still generating; after a whole answer, only drains it.
      controller.abort(upstreamEnded ? UPSTREAM_DONE : undefined);
    }
  }
  return { events: events(), snapshot: () => translator.response, finished: () => translator.finished, abort: (reason?: unknown) => controller.abort(reason) };
}
