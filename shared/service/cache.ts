// The response cache step of createResponse: the key of a request, the lookup, and saving a
// completed answer. A cache failure is logged and treated as a miss: it never fails a request.
import { cacheKey } from '../cache/key.ts';
import type { CreateRequest, InputItem, ResponseObject } from '../protocol/types.ts';
import type { Caller, Services } from './context.ts';

/** The spec's route name for Responses API answers (`get_llm_cache` keys by it). */
export const CACHE_ROUTE = 'openai_responses';

/**
 * The key for this request, or null when it does not use the cache: per request with
 * `nomyo.cache` (true, or false to opt out), else by config `cache_enabled`. Background
 * responses are never served from or put in the cache.
 */
export function requestCacheKey(svc: Services, caller: Caller, req: CreateRequest, resolvedInput: readonly InputItem[]): string | null {
  const wanted = typeof req.nomyo?.cache === 'boolean' ? req.nomyo.cache : svc.config.cacheEnabled;
  if (!wanted || req.background) return null;
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

function logError(msg: string, err: unknown, id?: string): void {
  console.error(JSON.stringify({ level: 'error', msg, ...(id ? { id } : {}), error: String(err) }));
}
