// The background worker (one Step Functions task): claims a queued response with a lease naming
// its execution, runs the stored request on the backend, and appends the events to the log in
// batches (event-log.ts). Every write is conditional on `in_progress` + its lease (a job handed
// over in the API's process: or `queued`, until a write of its own claimed it), so a cancel or a
// sweep makes the next write fail, and the worker then aborts the upstream request.
import { ApiError } from '../protocol/errors.ts';
import { isTerminalStatus, type InputItem, type ResponseError, type ResponseObject } from '../protocol/types.ts';
import { UpstreamError, type QueuedJob } from '../ports.ts';
import { chatPath } from './chat-path.ts';
import type { Services } from './context.ts';
import { LogWriter } from './event-log.ts';
import { nativePath } from './native-path.ts';
import { endTurn, historyOf, resumeTurn } from './turn.ts';

/** Output item ids of a background run are numbered apart from its input's. */
const OUTPUT_IDS_FROM = 0x40000000;

/** Thrown for failures a workflow retry may fix (nothing was streamed yet): the ASL retries it. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

export interface RunInput {
  responseId: string;
  executionId: string;
  /** Epoch ms by which the worker must have finished (the Lambda's own limit, less a margin). */
  deadlineMs?: number;
  /** The record as the API stored it, handed over in the API's process (npm start; never on Step Functions). */
  job?: QueuedJob;
}

/** Why a background run stops when its host shuts down (the local server on SIGTERM, after its grace period). */
const SHUTDOWN_REASON = () => new UpstreamError('The gateway shut down before the background job finished; it was stopped.', 0, 'aborted');

/**
 * The worker's task: run one background response to a terminal state. `shutdown` (the local
 * server's, on SIGTERM) stops it like a cancel would, but it ends `failed`, saying why.
 */
export async function runBackground(svc: Services, input: RunInput, shutdown?: AbortSignal): Promise<{ status: string }> {
  const { responseId: id, executionId: lease } = input;
  // Queued -> in_progress under our lease, in one write that returns the record; a retry of this
  // execution claims it again (and continues the same log: nothing was streamed by the failed try).
  // A job handed over in the API's process needs no read and no write before its upstream call:
  // its first log write claims it (its first output), or a claim flush_ms in, whichever comes
  // first; a claim refused (a cancel came first) stops it.
  const rec = input.job ?? await svc.store.claim(id, lease);
  if (typeof rec === 'string') return { status: rec };
  const writer = new LogWriter(svc, id, lease, rec.response.created_at, rec.lastSeq, { claiming: !!input.job });
  /** Ends the job failed before any output: a handed job claims the record first (a no-op once claimed). */
  const failEarly = async (message: string) => {
    await writer.claim().catch(() => false);
    await finishWithoutEvent(svc, id, lease, { code: 'server_error', message });
    return { status: 'failed' };
  };
  const history = await historyOfJob(svc, rec);
  if (!history) return failEarly(`Conversation with id '${rec.response.conversation?.id}' not found (it was deleted before the job started).`);
  const turn = resumeTurn(rec, history, OUTPUT_IDS_FROM);
  const abort = new AbortController();
  const deadline = input.deadlineMs ? setTimeout(() => abort.abort(new UpstreamError(
    'The background job reached the time limit of its worker (15 minutes) and was stopped.', 0, 'aborted',
  )), Math.max(0, input.deadlineMs - svc.clock.nowMs())) : undefined;
  const onShutdown = () => abort.abort(SHUTDOWN_REASON());
  shutdown?.addEventListener('abort', onShutdown, { once: true });
  if (shutdown?.aborted) onShutdown(); // a workflow retry that began after the stop ends at once, failed

  const lateClaim = input.job ? setTimeout(() => void writer.claim().then((ok) => { if (!ok) abort.abort(); }, () => abort.abort()), svc.config.flushMs) : undefined;
  // The heartbeat starts now, not at the first byte: a model that is slow to answer (loading,
  // long prompt) is still a live job, and the sweeper must not take it for a dead one.
  let snapshot = (): ResponseObject => turn.base;
  const heartbeat = setInterval(() => {
    if (writer.busy) return; // a write under way (perhaps riding out an outage) is the heartbeat
    void writer.flush(snapshot()).then((ok) => { if (!ok) abort.abort(); }, () => abort.abort()); // a failed write must not be an unhandled rejection
  }, svc.config.heartbeatMs);
  try {
    const ranked = await svc.router.rank(turn.req.model);
    let routed;
    try {
      // Retried on the next endpoint first; what is still failing goes to the workflow's retry.
      // With every slot taken, the job waits its turn (up to background_queue_ms), as a queue
      // would: it does not fail for want of a slot.
      const job = { ...turn, signal: abort.signal };
      routed = await svc.router.call(ranked, (c) => (c.endpoint.kind === 'responses' ? nativePath : chatPath).stream(svc, c, job), abort.signal, {
        slotWaitMs: svc.config.backgroundQueueMs,
      });
    } catch (err) {
      if (err instanceof UpstreamError && err.retryable) throw new TransientError(err.message);
      const message = err instanceof ApiError && err.status === 429
        ? `The background job waited ${svc.config.backgroundQueueMs} ms (background_queue_ms) for a free slot of max_concurrent_connections, and none came free.`
        : err instanceof UpstreamError ? err.upstreamMessage ?? err.message : 'The background job could not start.';
      return failEarly(message);
    }
    const run = routed.value;
    snapshot = () => run.snapshot();
    try {
      for await (const batch of run.events) {
        writer.add(batch);
        if (run.finished()) {
          void routed.release(); // the upstream is done: free its slot while the turn ends
          break;
        }
        if (writer.due(svc.config.flushMs) && !(await writer.flush(run.snapshot()))) {
          abort.abort(); // cancelled or swept: stop the upstream at once
          return { status: 'stopped' };
        }
      }
      if (!run.finished()) return { status: 'stopped' };
      const ok = await endTurn(svc, turn, run.snapshot(), () => writer.flush(run.snapshot()));
      return { status: ok ? run.snapshot().status : 'stopped' };
    } finally {
      await routed.release();
      abort.abort();
    }
  } finally {
    clearInterval(heartbeat);
    clearTimeout(lateClaim);
    if (deadline) clearTimeout(deadline);
    shutdown?.removeEventListener('abort', onShutdown);
  }
}

/**
 * A job's history, read when it starts: its conversation's items (null when the conversation was
 * deleted meanwhile), else its chain's; no read for a job that continues neither.
 */
async function historyOfJob(svc: Services, rec: QueuedJob): Promise<InputItem[] | null> {
  const conversation = rec.response.conversation?.id;
  if (conversation) return (await svc.conversations.load(conversation, rec.owner))?.items ?? null;
  const parent = rec.response.previous_response_id;
  return parent ? historyOf((await svc.store.getChain(parent, rec.owner)) ?? []) : [];
}

/** A terminal state with no terminal event in the log: readers close streams from the record. */
async function finishWithoutEvent(svc: Services, id: string, lease: string | null, error: ResponseError): Promise<boolean> {
  const rec = await svc.store.getAny(id);
  if (!rec || isTerminalStatus(rec.response.status)) return false;
  const failed: ResponseObject = { ...rec.response, status: 'failed', error, completed_at: null };
  return svc.store.update(id, failed, lease ? { from: ['in_progress'], lease } : { from: ['queued', 'in_progress'] });
}

/** The workflow's catch: mark the response failed unless it already ended. */
export async function markFailed(svc: Services, input: { responseId: string; error?: { Error?: string; Cause?: string } }): Promise<{ status: string }> {
  const cause = input.error?.Cause ? `: ${String(input.error.Cause).slice(0, 500)}` : '';
  const ok = await finishWithoutEvent(svc, input.responseId, null, {
    code: 'server_error',
    message: `The background job failed (${input.error?.Error ?? 'unknown error'})${cause}`,
  });
  return { status: ok ? 'failed' : 'unchanged' };
}
