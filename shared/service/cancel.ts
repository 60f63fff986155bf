import { badRequest, responseNotFound } from '../protocol/errors.ts';
import { isResponseId } from '../protocol/ids.ts';
import type { ResponseObject } from '../protocol/types.ts';
import type { Caller, Services } from './context.ts';

/** `POST /v1/responses/{id}/cancel`: only background responses can be cancelled (OpenAI's rule). */
export async function cancelResponse(svc: Services, caller: Caller, id: string): Promise<ResponseObject> {
  const rec = isResponseId(id) ? await svc.store.get(id, caller.principal) : null;
  if (!rec) throw responseNotFound(id);
  if (!rec.response.background) throw badRequest('Only responses created with background=true can be cancelled.', null, 'invalid_request');
  if (rec.response.status === 'cancelled') return rec.response;
  throw badRequest(`Cannot cancel a response with status '${rec.response.status}'.`, null, 'invalid_request');
}
