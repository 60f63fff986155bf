import { nativeFields, type CreateRequest } from '../protocol/request-fields.ts';
import type { InputItem, JsonObject } from '../protocol/types.ts';
import { NativeStreamRewriter, rewriteNativeResponse } from '../stream/index.ts';
import type { UpstreamEvent } from '../ports.ts';
import type { BackendPath } from './backend-path.ts';
import { linkedAbort, streamThrough } from './backend-path.ts';
import type { Job } from './turn.ts';

const OPENING = new Set(['response.created', 'response.queued']);

// The native path: a Responses upstream (OpenAI) with `store: false`. We keep the state, so the
// chain is sent as items, never as our previous_response_id, and every upstream id is
// rewritten to ours.

/**
 * History items as a stateless upstream accepts them: our item ids mean nothing to it, and
 * reasoning items can only be replayed with their encrypted content.
 */
function toUpstreamItems(items: InputItem[]): InputItem[] {
  const out: InputItem[] = [];
  for (const item of items) {
    if (item.type === 'reasoning' && !item.encrypted_content) continue;
    const { id: _id, status: _status, ...rest } = item;
    out.push(rest);
  }
  return out;
}

/**
 * A request as a native upstream gets it: the fields the client sent (request-fields.ts `native`:
 * ours, such as previous_response_id, conversation or nomyo, left out), on its model and these items.
 */
export const nativeBody = (req: CreateRequest, model: string, items: InputItem[]): JsonObject =>
  ({ ...nativeFields(req), model, input: toUpstreamItems(items) });

/** A create: the history and the input, not stored upstream (we store it). */
const body = (job: Job, model: string): JsonObject => ({ ...nativeBody(job.req, model, [...job.history, ...job.input]), store: false });

export const nativePath: BackendPath = {
  async run(svc, choice, job) {
    const up = await svc.backend.responses(choice.endpoint, body(job, choice.model), { signal: job.signal, timeoutMs: svc.config.upstreamTimeoutMs });
    return rewriteNativeResponse(up, job.base, job.newId);
  },

  async stream(svc, choice, job) {
    const controller = linkedAbort(job.signal);
    const upstream = svc.backend.responsesStream(choice.endpoint, body(job, choice.model), { signal: controller.signal, timeoutMs: svc.config.upstreamTimeoutMs });
    const rewriter = new NativeStreamRewriter({ response: job.base, nextSequence: job.nextSequence, newId: job.newId, now: () => svc.clock.nowMs(), started: job.resumed });
    // A background run already logged its own opening events; the upstream's would repeat them.
    const push = (ev: UpstreamEvent) => (job.resumed && OPENING.has(String(ev.data.type ?? ev.event)) ? [] : rewriter.push(ev));
    return streamThrough(upstream, rewriter, push, controller);
  },
};
