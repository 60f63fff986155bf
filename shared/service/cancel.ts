import { badRequest, responseNotFound } from '../protocol/errors.ts';
import { isResponseId } from '../protocol/ids.ts';
import type { ResponseObject } from '../protocol/types.ts';
import type { Caller, Services } from './context.ts';

/**
 * `POST /v1/responses/{id}/cancel`. Only background responses can be cancelled (OpenAI's rule).
 * The conditional write to `cancelled` is what stops the job: the worker's next write fails and
 * it aborts its upstream request. StopExecution follows as a backstop. A cancel racing the
 * worker's last write ends in one terminal state: whichever conditional write lands first.
 */
const ATTEMPTS = 8;

export async function cancelResponse(svc: Services, caller: Caller, id: string): Promise<ResponseObject> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const rec = isResponseId(id) ? await svc.store.get(id, caller.principal) : null;
    if (!rec) throw responseNotFound(id);
    const { response } = rec;
    if (!response.background) throw badRequest('Only responses created with background=true can be cancelled.', null, 'invalid_request');
    if (response.status === 'cancelled') return response;
    if (response.status !== 'queued' && response.status !== 'in_progress') {
      throw badRequest(`Cannot cancel a ${response.status} response.`, null, 'invalid_request');
    }
    const cancelled: ResponseObject = { ...response, status: 'cancelled', completed_at: null };
    // Conditional on the heartbeat too, so the partial output we write is the latest; a worker
    // that keeps writing between our read and our write only costs another try, and the last
    // try wins on status alone (the cancel must not lose to a busy job).
    const last = attempt === ATTEMPTS - 1;
    if (await svc.store.update(id, cancelled, { from: ['queued', 'in_progress'], expectUpdatedAt: last ? undefined : rec.updatedAt })) {
      await svc.launcher.stop(id).catch(() => undefined);
      return cancelled;
    }
  }
  throw badRequest('The response changed while it was being cancelled; try again.', null, 'conflict');
}
