// A cached answer served to a new request. Pure: ids come from the caller's newId.
import { idPrefixOf, newId as randomId, type IdPrefix } from '../protocol/ids.ts';
import { outputTextOf } from '../protocol/response.ts';
import type { OutputItem, ResponseObject, StreamEvent } from '../protocol/types.ts';
import { responseToEvents } from '../stream/replay.ts';

/**
 * The response for this request: its own id, creation time and echoed settings (from `base`),
 * the cached output and usage. Every item gets a new id, so no two responses share an item id
 * (a client that keys items by id, or chains from both, must not see them collide).
 */
export function servedFromCache(cached: ResponseObject, base: ResponseObject, newId: (p: IdPrefix) => string = randomId): ResponseObject {
  const output = cached.output.map((item): OutputItem => ({ ...item, id: newId(idPrefixOf(item.type)) }));
  return {
    ...base,
    // The model that produced the answer (a native upstream names its snapshot).
    model: cached.model,
    status: 'completed',
    completed_at: base.created_at,
    error: null,
    incomplete_details: null,
    output,
    output_text: outputTextOf(output),
    usage: cached.usage,
  };
}

/** The same, as the full event lifecycle of a stream (created ... completed). */
export function cachedEvents(served: ResponseObject): StreamEvent[] {
  return responseToEvents(served);
}
