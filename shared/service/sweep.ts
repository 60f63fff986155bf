// The orphan sweep (EventBridge Scheduler in AWS, a timer locally): queued / in_progress responses
// whose heartbeat stopped for `orphan_after_ms` (their worker or stream died with its process)
// are marked failed, saying so. Conditional on the heartbeat read: a live writer wins the race.
import { isTerminalStatus } from '../protocol/types.ts';
import type { Services } from './context.ts';

const IN_PARALLEL = 8;

/**
 * The config keys the sweeper reads (and those checked with them). The stack gives the sweeper
 * only these: it calls no upstream and serves no client, so it gets no endpoint, no key and no
 * `${NAME}` placeholder it could not fill (it reads no secret).
 */
export const SWEEPER_CONFIG_KEYS = ['orphan_after_ms', 'heartbeat_ms', 'response_ttl_days', 'log_level'] as const;

/** Marks the orphaned responses failed; returns how many. */
export async function sweepOrphans(svc: Services, nowMs = svc.clock.nowMs()): Promise<number> {
  const cutoff = nowMs - svc.config.orphanAfterMs;
  const ids = await svc.store.listStale(cutoff);
  let failed = 0;
  for (let i = 0; i < ids.length; i += IN_PARALLEL) {
    const done = await Promise.all(ids.slice(i, i + IN_PARALLEL).map((id) => failOrphan(svc, id, cutoff, nowMs)));
    failed += done.filter(Boolean).length;
  }
  return failed;
}

async function failOrphan(svc: Services, id: string, cutoff: number, nowMs: number): Promise<boolean> {
  // The index is eventually consistent: judge by a consistent read of the record itself.
  const rec = await svc.store.getAny(id);
  if (!rec || isTerminalStatus(rec.response.status) || rec.updatedAt >= cutoff) return false;
  const seconds = Math.round((nowMs - rec.updatedAt) / 1000);
  return svc.store.update(id, {
    ...rec.response,
    status: 'failed',
    completed_at: null,
    error: { code: 'server_error', message: `The response was abandoned: no progress was recorded for ${seconds} seconds (the process running it stopped).` },
  }, { from: ['queued', 'in_progress'], expectUpdatedAt: rec.updatedAt });
}
