import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../protocol/errors.ts';
import { UpstreamError } from '../ports.ts';
import { log } from '../log.ts';
import { within } from '../timing.ts';
import { count, countBy } from '../metrics.ts';
import { maskUrls } from '../redact.ts';
import { endpointName, slotKey, type Choice, type EndpointChooser } from './choose-endpoint.ts';
import type { Lease, SlotLeases } from './slots.ts';

export interface RouterOptions {
  /** How long a request waits for a free slot before it is refused with 429. */
  slotWaitMs: number;
  /** The Retry-After of that 429. */
  retryAfterSeconds: number;
  /** Upstream attempts per request (the first and its retries) for failures before the first byte. */
  maxAttempts: number;
  /** First retry delay; doubled on each further retry, with jitter. */
  retryBackoffMs: number;
}

/** A slot taken for a call that has not started yet (see Router.reserve). */
export interface Held { choice: Choice; lease: Lease }

/** Per call: a background job waits its turn longer than a foreground request (background_queue_ms). */
export interface CallOptions {
  slotWaitMs?: number;
  /** The slot of the first attempt, taken beforehand (reserve). */
  reserved?: Held;
}

/** What a routed call produced, and the slot it still holds until `release` (decrement_usage). */
export interface Routed<T> {
  value: T;
  choice: Choice;
  release(): Promise<void>;
}

const POLL_FIRST_MS = 25;
const POLL_MAX_MS = 500;
const BACKOFF_MAX_MS = 10_000;

/** Between half and all of `ms`: retries of many requests failing at once spread out. */
const jitter = (ms: number) => ms / 2 + Math.random() * (ms / 2);
const retryable = (err: unknown) => (err as { retryable?: unknown })?.retryable === true;
const rotate = <T>(xs: readonly T[], start: number) => [...xs.slice(start), ...xs.slice(0, start)];

/** Waits `ms`; a signal that fires ends the wait, and the call, at once. */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? stopped(signal) : err;
  }
}

/** Why a call stopped when its signal fired: the signal's reason when it is an error. */
const stopped = (signal: AbortSignal): Error =>
  (signal.reason instanceof Error ? signal.reason : new UpstreamError('upstream request aborted', 0, 'aborted'));

/** Endpoint choice, global concurrency slots, and retries with failover, together. */
export class Router {
  /** Per set of endpoint-models: the last of this process's waiters, who leaves when done. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    readonly chooser: EndpointChooser,
    private readonly leases: SlotLeases,
    private readonly opts: RouterOptions,
  ) {}

  /** The spec's choose_endpoint: candidates best first (404 when none serves the model). */
  rank(model: string): Promise<Choice[]> {
    return this.chooser.rank(model);
  }

  /**
   * The spec's `create_chat_with_retries`: runs `attempt` on the best candidate with a free slot.
   * A retryable failure (connection, time-out, 429, 5xx: all before the first byte, since
   * `attempt` resolves once the upstream answered) frees that slot, waits with backoff, and
   * goes on with the NEXT candidate, round again, up to `maxAttempts`. Anything else is thrown
   * at once. On success the slot stays held until the caller releases it.
   */
  async call<T>(ranked: readonly Choice[], attempt: (choice: Choice) => Promise<T>, signal?: AbortSignal, opts: CallOptions = {}): Promise<Routed<T>> {
    let start = 0;
    for (let n = 1; ; n++) {
      const { choice, lease } = n === 1 && opts.reserved ? opts.reserved : await this.acquire(rotate(ranked, start), signal, opts.slotWaitMs ?? this.opts.slotWaitMs);
      try {
        return { value: await attempt(choice), choice, release: lease.release };
      } catch (err) {
        await lease.release();
        if (retryable(err)) countBy('UpstreamFailures', 'Endpoint', endpointName(choice.endpoint));
        if (!retryable(err) || n >= this.opts.maxAttempts || signal?.aborted) throw err;
        log.warn('upstream failed before answering; retrying', { endpoint: endpointName(choice.endpoint), model: choice.model, attempt: n, error: maskUrls(String((err as Error)?.message ?? err)) });
        start = (ranked.indexOf(choice) + 1) % ranked.length;
        await pause(jitter(Math.min(BACKOFF_MAX_MS, this.opts.retryBackoffMs * 2 ** (n - 1))), signal);
      }
    }
  }

  /**
   * A slot for a call to make later, taken now, so the wait for it overlaps other work (the
   * request's reads). Whoever does not go on to `call` with it must release it.
   */
  reserve(ranked: readonly Choice[], signal?: AbortSignal): Promise<Held> {
    return this.acquire(ranked, signal, this.opts.slotWaitMs);
  }

  /**
   * A slot on the first of `choices` that has one. When all are taken, polls (with backoff,
   * woken early by this process's own releases) for up to `slotWaitMs`, then 429: never more
   * requests than slots.
   */
  private async acquire(choices: readonly Choice[], signal: AbortSignal | undefined, waitMs: number): Promise<{ choice: Choice; lease: Lease }> {
    if (signal?.aborted) throw stopped(signal);
    const keys = choices.map(slotKey);
    const deadline = Date.now() + waitMs;
    const free = await this.tryEach(choices, keys, true);
    if (free) return free;
    count('SlotWaits');
    // Saturated. This process's waiters for the same endpoints queue up, first come first served,
    // and only the first of them polls: a hundred local waiters cost what one does. (A Lambda
    // instance serves one request at a time: there the queue is always empty.)
    const queueKey = [...keys].sort().join('\n');
    const ahead = this.queues.get(queueKey) ?? Promise.resolve();
    let leave!: () => void;
    const done = new Promise<void>((r) => { leave = r; });
    const tail = ahead.then(() => done);
    this.queues.set(queueKey, tail);
    try {
      if (!(await within(ahead, deadline - Date.now(), signal))) throw signal?.aborted ? stopped(signal) : this.saturated(choices[0]!.model);
      let guess = true;
      for (let poll = POLL_FIRST_MS; ; poll = Math.min(POLL_MAX_MS, poll * 2)) {
        if (signal?.aborted) throw stopped(signal);
        const got = await this.tryEach(choices, keys, guess);
        if (got) return got;
        const left = deadline - Date.now();
        if (left <= 0) throw this.saturated(choices[0]!.model);
        // After a release of our own the freed slot is known: guess again; else read first. A
        // signal that fires ends the wait at once.
        const released = this.leases.waitForRelease(keys, Math.min(left, jitter(poll)));
        guess = (await within(released, left, signal)) && (await released);
      }
    } finally {
      leave();
      if (this.queues.get(queueKey) === tail) this.queues.delete(queueKey);
    }
  }

  private async tryEach(choices: readonly Choice[], keys: readonly string[], guess: boolean): Promise<{ choice: Choice; lease: Lease } | null> {
    for (const [i, choice] of choices.entries()) {
      const lease = await this.leases.tryAcquire(keys[i]!, guess);
      if (lease) return { choice, lease };
    }
    return null;
  }

  private saturated(model: string): ApiError {
    count('SlotRejections');
    const max = this.leases.opts.max;
    return new ApiError(
      429,
      `Every endpoint serving '${model}' is at its limit of ${max} concurrent request${max === 1 ? '' : 's'}. Please retry after a short wait.`,
      'rate_limit_error', null, 'rate_limit_exceeded',
      { 'retry-after': String(this.opts.retryAfterSeconds) },
    );
  }
}
