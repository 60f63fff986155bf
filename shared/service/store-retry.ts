// A write to DynamoDB that must not be lost to a short outage (a throttle, a failover, a restart
// of dynalite): retried on any thrown error (a failed condition is an answer, not an error, and is
// never retried) with backoff from 50 ms, at most 250 ms apart, so a write lands soon after the
// table is back, before the sweeper could take a live response for an abandoned one. The writes
// it wraps are idempotent: conditional updates to the same state, puts of the same item.

import { setTimeout as sleep } from 'node:timers/promises';

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 250;

export async function retryingWrite<T>(write: () => Promise<T>, forMs: number): Promise<T> {
  const deadline = performance.now() + forMs;
  for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    try {
      return await write();
    } catch (err) {
      if (performance.now() + delay > deadline) throw err;
      await sleep(delay);
    }
  }
}
