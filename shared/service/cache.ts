// The response cache step of a turn: the key of a request, the lookup, and saving a completed
// answer. A cache failure is logged and treated as a miss: it never fails a request.
import { cacheKey } from '../cache/key.ts';
import type { CreateRequest } from '../protocol/request-fields.ts';
import type { InputItem, ResponseObject } from '../protocol/types.ts';
import type { CacheStats } from '../ports.ts';
import { log } from '../log.ts';
import { count } from '../metrics.ts';
import type { Caller, Services } from './context.ts';

/** The spec's route name for Responses API answers (`get_llm_cache` keys by it). */
export const CACHE_ROUTE = 'openai_responses';

/**
 * Whether this request uses the cache: per request with `nomyo.cache` (true, or false to opt
 * out), else config `cache_enabled`. Background responses never do.
 */
export function cacheWanted(svc: Services, req: CreateRequest): boolean {
  const wanted = typeof req.nomyo?.cache === 'boolean' ? req.nomyo.cache : svc.config.cacheEnabled;
  return wanted && !req.background;
}

/** Where a turn's answer is cached: its key, and the fingerprint of the history it was made from. */
export interface CacheSlot { key: string; history: string }

/**
 * The key: the request (history anchors included: previous_response_id, conversation), this
 * turn's input and, unless shared, the caller. Known before any read, so the lookup runs beside them.
 */
export function requestCacheKey(svc: Services, caller: Caller, req: CreateRequest, input: readonly InputItem[]): string {
  return cacheKey({
    route: CACHE_ROUTE,
    principal: svc.config.cacheShared ? null : caller.principal,
    request: req,
    input,
  });
}

/** The cached answer for `key` made from the history whose fingerprint `history` gives (still being read); counted for `principal` too. */
export async function lookupCached(svc: Services, key: string, history: Promise<string>, principal: string): Promise<ResponseObject | null> {
  try {
    const hit = await svc.cache.get(key, svc.clock.nowMs(), history, principal);
    count(hit ? 'CacheHits' : 'CacheMisses');
    return hit;
  } catch (err) {
    log.error('cache lookup failed', err as Error);
    return null;
  }
}

/** Caches a finished answer if it completed (failed, incomplete or cancelled ones never). */
export async function saveCompleted(svc: Services, slot: CacheSlot, response: ResponseObject): Promise<void> {
  if (response.status !== 'completed') return;
  try {
    await svc.cache.put(slot.key, response, svc.config.cacheTtlSeconds, slot.history);
  } catch (err) {
    log.error('cache put failed', { id: response.id, error: err as Error });
  }
}

const rates = ({ hits, misses }: CacheStats) => ({ hits, misses, hit_rate: hits + misses === 0 ? 0 : hits / (hits + misses) });

/**
 * `GET /v1/cache/stats`: the caller's own hit and miss counts (one tenant learns nothing of the
 * others' traffic); an admin principal (config `admin_principals`) also gets every principal's
 * under `total`. Counts of other processes arrive within a flush interval.
 */
export async function cacheStats(svc: Services, caller: Caller) {
  const admin = svc.config.adminPrincipals.has(caller.principal);
  const [mine, all] = await Promise.all([svc.cache.stats(caller.principal), admin ? svc.cache.stats() : null]);
  const own = { object: 'cache.stats' as const, ...rates(mine) };
  return all ? { ...own, total: rates(all) } : own;
}
