import { badRequest, responseNotFound } from '../protocol/errors.ts';
import { listParams, type ListQuery } from '../protocol/validate.ts';
import { isResponseId } from '../protocol/ids.ts';
import type { InputItem, ResponseObject, StreamEvent } from '../protocol/types.ts';
import type { StoredResponse } from '../ports.ts';
import { responseToEvents } from '../stream/index.ts';
import type { Caller, Services } from './context.ts';
import { tailEvents } from './event-log.ts';

// Retrieve, delete and list input items: reads of what create stored, scoped to the caller.

async function load(svc: Services, caller: Caller, id: string): Promise<StoredResponse> {
  const rec = isResponseId(id) ? await svc.store.get(id, caller.principal) : null;
  if (!rec) throw responseNotFound(id);
  return rec;
}

export async function retrieveResponse(svc: Services, caller: Caller, id: string): Promise<ResponseObject> {
  return (await load(svc, caller, id)).response;
}

/**
 * `GET /v1/responses/{id}?stream=true[&starting_after=N]`: the stored response replayed as events.
 * A live reader of a background log stops polling once `signal` fires (its client left).
 */
export async function replayResponse(svc: Services, caller: Caller, id: string, startingAfter: number | null, signal?: AbortSignal): Promise<AsyncIterable<StreamEvent[]>> {
  const rec = await load(svc, caller, id);
  // Background responses have a log: replay it, live while the job runs.
  if (rec.response.background) return tailEvents(svc, id, startingAfter ?? -1, signal);
  const events = responseToEvents(rec.response).filter((e) => startingAfter === null || e.sequence_number > startingAfter);
  return (async function* () {
    yield events;
  })();
}

export async function deleteResponse(svc: Services, caller: Caller, id: string) {
  if (!isResponseId(id) || !(await svc.store.delete(id, caller.principal))) throw responseNotFound(id);
  return { id, object: 'response' as const, deleted: true as const };
}

/** `GET /v1/responses/{id}/input_items`: OpenAI's cursor list, newest first by default. */
export async function listInputItems(svc: Services, caller: Caller, id: string, q: ListQuery) {
  const { limit, order } = listParams(q);
  const rec = await load(svc, caller, id);
  let items: InputItem[] = order === 'asc' ? rec.input : [...rec.input].reverse();
  for (const [param, cursor] of [['after', q.after], ['before', q.before]] as const) {
    if (cursor == null) continue;
    const at = items.findIndex((item) => item.id === cursor);
    if (at < 0) throw badRequest(`No input item with id '${cursor}' in response '${id}'.`, param, 'invalid_value');
    items = param === 'after' ? items.slice(at + 1) : items.slice(0, at);
  }
  const data = q.before != null ? items.slice(-limit) : items.slice(0, limit);
  return {
    object: 'list' as const,
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data.at(-1)?.id as string | undefined) ?? null,
    has_more: data.length < items.length,
  };
}
