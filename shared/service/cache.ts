import type { IdPrefix } from '../protocol/ids.ts';
// The response cache step of createResponse: the key of a request, the lookup, and saving a
// completed answer. A cache failure is logged and treated as a miss: it never fails a request.
import { cacheKey } from '../cache/key.ts';
import { cachedEvents, servedFromCache } from '../cache/serve.ts';
import type { CreateRequest, InputItem, ResponseObject } from '../protocol/types.ts';
import type { StoredResponse } from '../ports.ts';
import type { Caller, Services } from './context.ts';
import type { CreateResult } from './create.ts';

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

/** The key: the request, its whole resolved input (chain history + this turn) and, unless shared, the caller. */
export function requestCacheKey(svc: Services, caller: Caller, req: CreateRequest, resolvedInput: readonly InputItem[]): string {
  return cacheKey({
    route: CACHE_ROUTE,
    principal: svc.config.cacheShared ? null : caller.principal,
    request: req,
    input: resolvedInput,
  });
}

export async function lookupCached(svc: Services, key: string): Promise<ResponseObject | null> {
  try {
    return await svc.cache.get(key, svc.clock.nowMs());
  } catch (err) {
    logError('cache lookup failed', err);
    return null;
  }
}

/** Caches a finished answer if it completed (failed, incomplete or cancelled ones never). */
export async function saveCompleted(svc: Services, key: string, response: ResponseObject): Promise<void> {
  if (response.status !== 'completed') return;
  try {
    await svc.cache.put(key, response, svc.config.cacheTtlSeconds);
  } catch (err) {
    logError('cache put failed', err, response.id);
  }
}

export interface Hit {
  cached: ResponseObject;
  /** This request's Response so far (new id, echoed settings). */
  base: ResponseObject;
  /** This turn's input items and the response it continues, for the stored record. */
  input: InputItem[];
  parent: StoredResponse | null;
  /** Ids for the served items (they name this response, as any response's items do). */
  newId: (prefix: IdPrefix) => string;
}

/**
 * Serves a hit without reaching any backend: as JSON or the full event lifecycle, stored like
 * any other response when `store` is true (so a cached answer can be chained from).
 */
export async function serveHit(svc: Services, caller: Caller, req: CreateRequest, hit: Hit): Promise<CreateResult> {
  const response = servedFromCache(hit.cached, hit.base, hit.newId);
  if (response.store) {
    const ttl = svc.config.responseTtlSeconds;
    await svc.store.create({
      id: response.id, owner: caller.principal, response, input: hit.input, endpoint: null,
      updatedAt: svc.clock.nowMs(), expiresAt: ttl === null ? null : response.created_at + ttl,
    }, hit.parent);
  }
  if (!req.stream) return { kind: 'json', body: response };
  const events = cachedEvents(response);
  return { kind: 'stream', events: (async function* () { yield events; })() };
}

/** `GET /v1/cache/stats`: global hit and miss counts (counts of other processes arrive within a flush interval). */
export async function cacheStats(svc: Services) {
  const { hits, misses } = await svc.cache.stats();
  const lookups = hits + misses;
  return { object: 'cache.stats' as const, hits, misses, hit_rate: lookups === 0 ? 0 : hits / lookups };
}

function logError(msg: string, err: unknown, id?: string): void {
  console.error(JSON.stringify({ level: 'error', msg, ...(id ? { id } : {}), error: String(err) }));
}
