// A background response's event log, written by its worker and read by its live streams.
//
// The contract with readers: `lastSeq` on the record is written in the same conditional update
// that precedes each batch, so a reader that has seen every event up to `lastSeq` of a terminal
// record, without a terminal event among them, knows the writer was stopped (cancel, sweep,
// workflow catch) and closes the stream with the record's own terminal snapshot. A reader of the
// log sees only stored batches. A reader in the writer's process (npm start) is handed each batch
// as soon as that update succeeded (the record counts it), while the batch is being stored: never
// earlier. If the store then fails for good (LOG_WRITE_RETRY_MS) the job fails, and that reader,
// having seen up to `lastSeq`, closes from the record as above.
import { isTerminalStatus, type ResponseObject, type StreamEvent } from '../protocol/types.ts';
import { lifecycle, TERMINAL_EVENT_TYPES, terminalType } from '../stream/events.ts';
import type { Services } from './context.ts';
import { retryingWrite } from './store-retry.ts';

const LIFECYCLE = new Set(['response.created', 'response.queued', 'response.in_progress']);
/**
 * How long a log write rides out a DynamoDB outage before the job gives up (and the workflow's
 * catch marks it failed): the upstream waits meanwhile (the worker reads no further).
 */
const LOG_WRITE_RETRY_MS = 5_000;

/**
 * Batches events into the log: one conditional record update (status, lease, heartbeat,
 * snapshot, lastSeq), then the batch announced to this process's readers and stored as one event
 * item, per flush. Flushes are serialized: a batch is stored before the next is counted.
 */
export class LogWriter {
  private pending: StreamEvent[] = [];
  private lastFlushMs = 0;
  private chain: Promise<boolean> = Promise.resolve(true);
  private stopped = false;
  private wroteOutput = false;
  private pendingOutput = false;
  private queued = 0;

  /** Until a write of ours landed, when the worker runs while its claim is in flight: each write claims the record too. */
  private claiming: boolean;

  constructor(
    private readonly svc: Services, private readonly id: string, private readonly lease: string,
    private readonly createdAt: number, private lastSeq: number, opts: { claiming?: boolean } = {},
  ) {
    this.claiming = opts.claiming === true;
    this.lastFlushMs = svc.clock.nowMs(); // the last write: the claim, or the API's create for a job handed over
  }

  add(events: StreamEvent[]): void {
    this.pending.push(...events);
    this.pendingOutput ||= events.some((e) => !LIFECYCLE.has(e.type));
  }

  /**
   * The first output goes out at once (time to first token), with the in_progress event before
   * it: a flush of that event alone would hold the first output up behind it. Everything else
   * every `flushMs` (and the heartbeat).
   */
  due(flushMs: number): boolean {
    return this.pending.length > 0 && ((this.pendingOutput && !this.wroteOutput) || this.svc.clock.nowMs() - this.lastFlushMs >= flushMs);
  }

  /** A flush is queued or under way. */
  get busy(): boolean {
    return this.queued > 0;
  }

  /** A job handed over: its claim, unless a write of ours claimed the record already; false when refused. */
  claim(): Promise<boolean> {
    return this.enqueue(async () => {
      if (!this.claiming) return true;
      const claimed = await retryingWrite(() => this.svc.store.claim(this.id, this.lease), LOG_WRITE_RETRY_MS);
      if (typeof claimed === 'string') {
        this.stopped = true;
        return false;
      }
      this.claiming = false;
      return true;
    });
  }

  /** Writes the snapshot and the pending events; false once the record is no longer ours (cancelled, swept). */
  flush(snapshot: ResponseObject): Promise<boolean> {
    return this.enqueue(async () => {
      const events = this.pending;
      this.pending = [];
      this.pendingOutput = false;
      const lastSeq = events.length ? events[events.length - 1]!.sequence_number : this.lastSeq;
      const updated = await retryingWrite(() => this.svc.store.update(this.id, snapshot, { from: ['in_progress'], lease: this.lease, lastSeq, claim: this.claiming }), LOG_WRITE_RETRY_MS);
      if (!updated) {
        this.stopped = true;
        return false;
      }
      this.claiming = false;
      this.lastSeq = lastSeq;
      this.lastFlushMs = this.svc.clock.nowMs();
      if (events.length) {
        this.svc.events.announce(this.id, events); // the record counts them: no need to wait for their item
        await retryingWrite(() => this.svc.events.append(this.id, events, this.createdAt), LOG_WRITE_RETRY_MS);
        this.wroteOutput ||= events.some((e) => !LIFECYCLE.has(e.type));
      }
      return true;
    });
  }

  /** Runs `step` after every write queued before it, unless one of them found the record no longer ours. */
  private enqueue(step: () => Promise<boolean>): Promise<boolean> {
    this.queued++;
    const settled = () => { this.queued--; };
    this.chain = this.chain.then((ok) => (ok && !this.stopped ? step() : false));
    this.chain.then(settled, settled);
    return this.chain;
  }
}

/**
 * Events of a background response after `afterSeq`, live, in batches (one per read of the log):
 * polls the log until the terminal event (or the record's terminal state when the writer was
 * stopped), then ends; or as soon as `signal` fires (its reader left), polling no more.
 */
export async function* tailEvents(svc: Services, id: string, afterSeq: number, signal?: AbortSignal, opts: { justStarted?: boolean } = {}): AsyncGenerator<StreamEvent[]> {
  let last = afterSeq;
  // A batch this process's writer announced (the record counts it): no read of it needed.
  let handed: readonly StreamEvent[] | null = null;
  // A job started this moment has nothing in its log yet: its first look waits for a batch.
  if (opts.justStarted) handed = await svc.events.announced(id, 25, signal);
  let stalledSince: number | null = null;
  // Back off from 25 ms to poll_ms while the log is quiet: a fresh job's first events (and each
  // flush of a running one) are seen soon; an idle wait costs at most 1000/poll_ms polls a second,
  // each a Query of the log and a GetItem of the record's status.
  let wait = 25;
  while (!signal?.aborted) {
    // Armed before the read: a batch this process announces while the log and the record are
    // read still wakes this reader, which would otherwise wait out its poll for it.
    const disarm = new AbortController();
    const woken = svc.events.announced(id, Math.min(wait, svc.config.pollMs), signal ? AbortSignal.any([signal, disarm.signal]) : disarm.signal);
    try {
      const events = handed?.[0]?.sequence_number === last + 1 ? [...handed] : await svc.events.read(id, last);
      handed = null;
      const end = events.findIndex((ev) => TERMINAL_EVENT_TYPES.has(ev.type));
      if (end >= 0) {
        yield events.slice(0, end + 1);
        return;
      }
      if (events.length) {
        // The next batch comes with the next flush (flush_ms), not at once: wait for it.
        wait = 25;
        last = events[events.length - 1]!.sequence_number;
        yield events;
        handed = await woken;
        continue;
      }
      // Nothing new: has the job ended? (The small read; the record itself only to close with.)
      const progress = await svc.store.progress(id);
      if (!progress) return;
      if (isTerminalStatus(progress.status)) {
        // Every committed event seen and none was terminal: the writer was stopped.
        const now = svc.clock.nowMs();
        stalledSince ??= now;
        if (last >= progress.lastSeq || now - stalledSince > svc.config.logGraceMs) {
          const rec = await svc.store.getAny(id);
          const type = rec && terminalType(rec.response.status);
          if (type) yield [lifecycle(last + 1, type, rec.response)];
          return;
        }
      }
      // Woken early by a batch of this process; a reader that left stops polling at once.
      handed = await woken;
    } finally {
      disarm.abort();
    }
    if (signal?.aborted) return;
    wait *= 2;
  }
}
