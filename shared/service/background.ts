import { itemIdsFor } from '../protocol/ids.ts';
import { TERMINAL_STATUSES, type CreateRequest, type ResponseError, type ResponseObject, type ResponseStatus, type StreamEvent } from '../protocol/types.ts';
import { lifecycle, terminalType } from '../stream/events.ts';
import type { StoredResponse } from '../ports.ts';
import { UpstreamError } from '../adapters/upstream-http.ts';
import { ApiError } from '../protocol/errors.ts';
import { chatPath } from './chat-path.ts';
import { nativePath } from './native-path.ts';
import type { Services } from './context.ts';
import { historyOf, type Job } from './create.ts';
import { appendTurn } from './conversations.ts';
import { retryingWrite } from './store-retry.ts';

// Background responses. The API stores a `queued` record and its first two events, then starts
// the workflow; the worker (one Step Functions task) claims the record with a lease naming its
// execution, streams from the backend and appends events in batches. Every write of the
// worker's is conditional on `in_progress` + its lease, so a cancel or a sweep makes the next
// write fail, and the worker then aborts the upstream request.
//
// The log's contract with readers: `lastSeq` on the record is written in the same conditional
// update that precedes each batch, so a reader that has seen every event up to `lastSeq` of a
// terminal record, without a terminal event among them, knows the writer was stopped (cancel,
// sweep, workflow catch) and closes the stream with the record's own terminal snapshot.

const isTerminal = (s: ResponseStatus) => TERMINAL_STATUSES.includes(s);
/** Output item ids of a background run are numbered apart from its input's. */
const OUTPUT_IDS_FROM = 0x40000000;
const TERMINAL_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const LIFECYCLE = new Set(['response.created', 'response.queued', 'response.in_progress']);
/**
 * How long a log write rides out a DynamoDB outage before the job gives up (and the workflow's
 * catch marks it failed): the upstream waits meanwhile (the worker reads no further).
 */
const LOG_WRITE_RETRY_MS = 5_000;

/** Thrown for failures a workflow retry may fix (nothing was streamed yet): the ASL retries it. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

export interface RunInput {
  responseId: string;
  executionId: string;
  /** Epoch ms by which the worker must have finished (the Lambda's own limit, less a margin). */
  deadlineMs?: number;
}

/** The request a stored response was created from: the Response object echoes every setting. */
function requestOf(rec: StoredResponse): CreateRequest {
  const r = rec.response;
  const req: CreateRequest = {
    model: r.model, input: rec.input, instructions: r.instructions as CreateRequest['instructions'], previous_response_id: r.previous_response_id,
    store: true, background: true, stream: true, tools: r.tools as CreateRequest['tools'], tool_choice: r.tool_choice, text: r.text,
    temperature: r.temperature, top_p: r.top_p, max_output_tokens: r.max_output_tokens, parallel_tool_calls: r.parallel_tool_calls,
    user: r.user, safety_identifier: r.safety_identifier, metadata: r.metadata,
  };
  if (r.reasoning && (r.reasoning as { effort?: unknown }).effort) req.reasoning = r.reasoning as CreateRequest['reasoning'];
  return req;
}

/** The worker's task: run one background response to a terminal state. */
export async function runBackground(svc: Services, input: RunInput): Promise<{ status: string }> {
  const { responseId: id, executionId: lease } = input;
  let rec = await svc.store.getAny(id);
  if (!rec || isTerminal(rec.response.status)) return { status: rec?.response.status ?? 'missing' };
  if (rec.response.status === 'queued') {
    const claimed = await svc.store.update(id, { ...rec.response, status: 'in_progress' }, { from: ['queued'], setLease: lease });
    if (!claimed) return { status: 'not_claimed' };
    rec = { ...rec, response: { ...rec.response, status: 'in_progress' }, lease };
  } else if (rec.lease !== lease) {
    return { status: 'not_claimed' }; // another execution holds it
  }
  // (A retry of this execution continues the same log: nothing was streamed by the failed try.)

  // A conversation's items are the history (read now, when the job starts), else the chain's.
  const conversation = rec.response.conversation?.id ?? null;
  const loaded = conversation ? await svc.conversations.load(conversation, rec.owner) : null;
  if (conversation && !loaded) {
    await finishWithoutEvent(svc, id, lease, { code: 'server_error', message: `Conversation with id '${conversation}' not found (it was deleted before the job started).` });
    return { status: 'failed' };
  }
  const chain = rec.response.previous_response_id ? (await svc.store.getChain(rec.response.previous_response_id, rec.owner)) ?? [] : [];
  const history = loaded?.items ?? historyOf(chain);
  const abort = new AbortController();
  const deadline = input.deadlineMs ? setTimeout(() => abort.abort(new UpstreamError(
    'The background job reached the time limit of its worker (15 minutes) and was stopped.', 0, 'aborted',
  )), Math.max(0, input.deadlineMs - svc.clock.nowMs())) : undefined;

  const writer = new LogWriter(svc, id, lease, rec.response.created_at, rec.lastSeq);
  // The heartbeat starts now, not at the first byte: a model that is slow to answer (loading,
  // long prompt) is still a live job, and the sweeper must not take it for a dead one.
  let snapshot = (): ResponseObject => ({ ...rec.response, status: 'in_progress' });
  const heartbeat = setInterval(() => {
    if (writer.busy) return; // a write under way (perhaps riding out an outage) is the heartbeat
    void writer.flush(snapshot()).then((ok) => { if (!ok) abort.abort(); }, () => abort.abort()); // a failed write must not be an unhandled rejection
  }, svc.config.heartbeatMs);
  try {
    const ranked = await svc.router.rank(rec.response.model);
    const job: Job = {
      req: requestOf(rec), base: { ...rec.response, status: 'in_progress' }, history, input: rec.input,
      signal: abort.signal, nextSequence: rec.lastSeq + 1, resumed: true,
      newId: itemIdsFor(id, OUTPUT_IDS_FROM), // the API numbered the input items from 0
    };
    let routed;
    try {
      // Retried on the next endpoint first; what is still failing goes to the workflow's retry.
      routed = await svc.router.call(ranked, (c) => (c.endpoint.kind === 'responses' ? nativePath : chatPath).stream(svc, c, job), abort.signal);
    } catch (err) {
      if (err instanceof UpstreamError && err.retryable) throw new TransientError(err.message);
      if (err instanceof ApiError && err.status === 429) throw new TransientError(err.message); // no free slot yet
      const message = err instanceof UpstreamError ? err.upstreamMessage ?? err.message : 'The background job could not start.';
      await finishWithoutEvent(svc, id, lease, { code: 'server_error', message });
      return { status: 'failed' };
    }
    const run = routed.value;
    snapshot = () => run.snapshot();
    try {
      for await (const batch of run.events) {
        writer.add(batch);
        if (run.finished()) {
          void routed.release(); // the upstream is done: free its slot while the log is written
          break;
        }
        if (writer.due(svc.config.flushMs) && !(await writer.flush(run.snapshot()))) {
          abort.abort(); // cancelled or swept: stop the upstream at once
          return { status: 'stopped' };
        }
      }
      if (!run.finished()) return { status: 'stopped' };
      // The turn joins the conversation before the terminal event is logged (idempotent: a
      // retried run finds its items there already).
      if (conversation) await appendTurn(svc, rec.owner, conversation, rec.input, run.snapshot(), true);
      const ok = await writer.flush(run.snapshot());
      return { status: ok ? run.snapshot().status : 'stopped' };
    } finally {
      await routed.release();
      abort.abort();
    }
  } finally {
    clearInterval(heartbeat);
    if (deadline) clearTimeout(deadline);
  }
}

/**
 * Batches events into the log: one conditional record update (status, lease, heartbeat,
 * snapshot, lastSeq) then one event item per flush. Flushes are serialized.
 */
class LogWriter {
  private pending: StreamEvent[] = [];
  private lastFlushMs = 0;
  private chain: Promise<boolean> = Promise.resolve(true);
  private stopped = false;
  private wroteOutput = false;
  private queued = 0;

  constructor(
    private readonly svc: Services, private readonly id: string, private readonly lease: string,
    private readonly createdAt: number, private lastSeq: number,
  ) {}

  add(events: StreamEvent[]): void {
    this.pending.push(...events);
  }

  /** The opening and the first output go out at once (time to first token); later ones every `flushMs`. */
  due(flushMs: number): boolean {
    return this.pending.length > 0 && (!this.wroteOutput || this.svc.clock.nowMs() - this.lastFlushMs >= flushMs);
  }

  /** A flush is queued or under way. */
  get busy(): boolean {
    return this.queued > 0;
  }

  flush(snapshot: ResponseObject): Promise<boolean> {
    this.queued++;
    const settled = () => { this.queued--; };
    this.chain = this.chain.then(async (ok) => {
      if (!ok || this.stopped) return false;
      const events = this.pending;
      this.pending = [];
      const lastSeq = events.length ? events[events.length - 1]!.sequence_number : this.lastSeq;
      const updated = await retryingWrite(() => this.svc.store.update(this.id, snapshot, { from: ['in_progress'], lease: this.lease, lastSeq }), LOG_WRITE_RETRY_MS);
      if (!updated) {
        this.stopped = true;
        return false;
      }
      this.lastSeq = lastSeq;
      this.lastFlushMs = this.svc.clock.nowMs();
      if (events.length) {
        await retryingWrite(() => this.svc.store.appendEvents(this.id, events, this.createdAt), LOG_WRITE_RETRY_MS);
        this.wroteOutput ||= events.some((e) => !LIFECYCLE.has(e.type));
      }
      return true;
    });
    this.chain.then(settled, settled);
    return this.chain;
  }
}

/** A terminal state with no terminal event in the log: readers close streams from the record. */
async function finishWithoutEvent(svc: Services, id: string, lease: string | null, error: ResponseError): Promise<boolean> {
  const rec = await svc.store.getAny(id);
  if (!rec || isTerminal(rec.response.status)) return false;
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

/**
 * Events of a background response after `afterSeq`, live, in batches (one per read of the log):
 * polls the log until the terminal event (or the record's terminal state when the writer was
 * stopped), then ends.
 */
export async function* tailEvents(svc: Services, id: string, afterSeq: number, signal?: AbortSignal): AsyncGenerator<StreamEvent[]> {
  let last = afterSeq;
  let stalledSince: number | null = null;
  // Back off from 25 ms to poll_ms while the log is quiet: a fresh job's first events (and each
  // flush of a running one) are seen soon, an idle wait costs at most 1000/poll_ms reads a second.
  let wait = 25;
  while (!signal?.aborted) {
    const events = await svc.store.readEvents(id, last);
    if (events.length) wait = 25;
    const end = events.findIndex((ev) => TERMINAL_EVENTS.has(ev.type));
    if (end >= 0) {
      yield events.slice(0, end + 1);
      return;
    }
    if (events.length) {
      yield events;
      last = events[events.length - 1]!.sequence_number;
    }
    if (events.length === 0) {
      const rec = await svc.store.getAny(id);
      if (!rec) return;
      if (isTerminal(rec.response.status)) {
        // Every committed event seen and none was terminal: the writer was stopped.
        const now = svc.clock.nowMs();
        stalledSince ??= now;
        if (last >= rec.lastSeq || now - stalledSince > svc.config.logGraceMs) {
          const type = terminalType(rec.response.status);
          if (type) yield [lifecycle(last + 1, type, rec.response)];
          return;
        }
      }
      await sleep(Math.min(wait, svc.config.pollMs));
      wait *= 2;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
