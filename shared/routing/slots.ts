import { randomInt, randomUUID } from 'node:crypto';
import type { Clock, SlotStore } from '../ports.ts';
import { log } from '../log.ts';

// `max_concurrent_connections` per endpoint-model, held across every process: a request leases
// one of the key's `max` slots in the SlotStore (DynamoDB), renews the lease while it runs (a
// long stream outlives any fixed lease), and frees it when it ends: the spec's
// `decrement_usage`. A holder that dies stops renewing, so its slot frees itself at expiry.

export interface SlotOptions {
  /** Slots per key: max_concurrent_connections. 0: no limit, so no lease is stored at all. */
  max: number;
  /** A lease not renewed for this long is free for others. Renewed every third of it. */
  leaseMs: number;
}

/** A held slot. */
export interface Lease {
  readonly key: string;
  readonly slot: number;
  /** Frees the slot (idempotent, never throws). */
  release(): Promise<void>;
}

export class SlotLeases {
  /** Slots this process holds or is taking, per key: guessed first, so its own requests never collide. */
  private readonly mine = new Map<string, Set<number>>();
  private readonly wakers = new Map<string, Set<() => void>>();
  /** Without a limit: requests in flight per key, for least-loaded ranking only (nothing stored). */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly store: SlotStore, private readonly clock: Clock, readonly opts: SlotOptions) {}

  /** Slots of `key` this process holds. */
  inUse(key: string): number {
    return this.opts.max === 0 ? this.inFlight.get(key) ?? 0 : this.mine.get(key)?.size ?? 0;
  }

  /**
   * One try, no waiting: a lease, or null when every slot is taken. With `guess`, the lowest slot
   * this process does not hold is tried blind (1 write when uncontended); otherwise, or when
   * that one is taken, the live leases are read and a free slot is taken at random.
   */
  async tryAcquire(key: string, guess: boolean): Promise<Lease | null> {
    if (this.opts.max === 0) return this.unlimited(key);
    let mine = this.mine.get(key);
    if (!mine) this.mine.set(key, (mine = new Set<number>()));
    const holder = randomUUID();
    if (guess) {
      // A loop, not a list of every slot: with a limit of hundreds, that list per request cost more than the rest of the take.
      let slot = 0;
      while (slot < this.opts.max && mine.has(slot)) slot++;
      if (slot === this.opts.max) return null; // this process holds them all: no need to ask
      if (await this.take(key, slot, holder, mine)) return this.lease(key, slot, holder);
    }
    const held = new Set(await this.store.held(key, this.clock.nowMs()));
    const free: number[] = [];
    for (let s = 0; s < this.opts.max; s++) if (!held.has(s) && !mine.has(s)) free.push(s);
    if (free.length === 0) return null;
    // At random: processes that read the same free set should not all race for the same slot.
    const slot = free[randomInt(free.length)]!;
    return (await this.take(key, slot, holder, mine)) ? this.lease(key, slot, holder) : null;
  }

  /**
   * Resolves true when this process frees a slot of one of `keys` (one waiter per freed slot,
   * first come first served: waking them all would only make them race for it), false after `ms`.
   */
  waitForRelease(keys: readonly string[], ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      const done = (woken: boolean) => {
        clearTimeout(timer);
        for (const k of keys) this.wakers.get(k)?.delete(wake);
        resolve(woken);
      };
      for (const k of keys) {
        if (!this.wakers.has(k)) this.wakers.set(k, new Set());
        this.wakers.get(k)!.add(wake);
      }
    });
  }

  /** No limit configured: a lease that only counts, so no DynamoDB write is in any request's path. */
  private unlimited(key: string): Lease {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      const left = this.inFlight.get(key)! - 1;
      if (left) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    };
    return { key, slot: -1, release };
  }

  private async take(key: string, slot: number, holder: string, mine: Set<number>): Promise<boolean> {
    mine.add(slot); // reserved while the write is in flight
    const now = this.clock.nowMs();
    try {
      if (await this.store.take(key, slot, holder, now + this.opts.leaseMs, now)) return true;
    } catch (err) {
      mine.delete(slot);
      throw err;
    }
    mine.delete(slot);
    return false;
  }

  private lease(key: string, slot: number, holder: string): Lease {
    const renew = () => {
      this.store.renew(key, slot, holder, this.clock.nowMs() + this.opts.leaseMs).then(
        // Only after a whole lease without a successful renewal (a stalled process): say so.
        (ok) => { if (!ok) log.warn('slot lease lost: the limit may be exceeded until this request ends', { key, slot }); },
        (err: unknown) => log.warn('slot lease renewal failed', { key, slot, error: String(err) }),
      );
    };
    const heartbeat = this.store.local ? undefined : setInterval(renew, Math.max(1, Math.floor(this.opts.leaseMs / 3)));
    heartbeat?.unref();
    let released: Promise<void> | undefined;
    const release = () => (released ??= (async () => {
      clearInterval(heartbeat);
      try {
        await this.store.release(key, slot, holder);
      } catch (err) {
        // Not renewed any more, so it frees itself at expiry.
        log.warn('slot release failed; it frees itself when its lease expires', { key, slot, error: String(err) });
      }
      this.mine.get(key)?.delete(slot);
      const next = this.wakers.get(key)?.values().next();
      if (next && !next.done) next.value();
    })());
    return { key, slot, release };
  }
}
