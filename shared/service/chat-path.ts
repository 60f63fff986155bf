import { outputTextOf } from '../protocol/response.ts';
import type { ResponseObject } from '../protocol/types.ts';
import { ChatStreamTranslator } from '../stream/index.ts';
import { buildChatRequest, chatMessageToOutputItems, responsesInputToMessages, usageChatToResponses } from '../translate/index.ts';
import { droppedForChat } from '../protocol/request-fields.ts';
import { UpstreamError } from '../ports.ts';
import { log } from '../log.ts';
import { maskUrls } from '../redact.ts';
import type { BackendPath } from './backend-path.ts';
import { linkedAbort, streamThrough } from './backend-path.ts';
import type { Services } from './context.ts';
import type { Job } from './turn.ts';
import type { Choice } from '../routing/choose-endpoint.ts';

// The translated path: Responses -> Chat Completions -> Responses.

const INCOMPLETE_REASONS: Record<string, string> = { length: 'max_output_tokens', content_filter: 'content_filter' };

function chatRequest(svc: Services, choice: Choice, job: Job, stream: boolean) {
  const dropped = droppedForChat(job.req);
  if (Object.keys(dropped).length) log.info('request fields a Chat backend cannot take were dropped', { id: job.base.id, endpoint: maskUrls(choice.endpoint.url), dropped });
  const messages = responsesInputToMessages([...job.history, ...job.input], job.req.instructions, { reasoning: svc.config.reasoningHistory });
  return buildChatRequest(job.req, messages, choice.model, { stream });
}

export const chatPath: BackendPath = {
  async run(svc, choice, job): Promise<ResponseObject> {
    const request = chatRequest(svc, choice, job, false);
    const completion = await svc.backend.chat(choice.endpoint, request, { signal: job.signal, timeoutMs: svc.config.upstreamTimeoutMs });
    const first = completion.choices[0];
    if (!first?.message) throw new UpstreamError('upstream answer has no message', 502, 'protocol');
    const incomplete = first.finish_reason ? INCOMPLETE_REASONS[first.finish_reason] : undefined;
    const ids = { msg: () => job.newId('msg'), fc: () => job.newId('fc'), rs: () => job.newId('rs') };
    const output = chatMessageToOutputItems(first.message, ids).map((item) =>
      incomplete && 'status' in item ? { ...item, status: 'incomplete' as const } : item,
    );
    const now = Math.floor(svc.clock.nowMs() / 1000);
    return {
      ...job.base,
      status: incomplete ? 'incomplete' : 'completed',
      completed_at: incomplete ? null : now,
      incomplete_details: incomplete ? { reason: incomplete } : null,
      output,
      output_text: outputTextOf(output),
      usage: usageChatToResponses(completion.usage),
    };
  },

  async stream(svc, choice, job) {
    const request = chatRequest(svc, choice, job, true);
    const controller = linkedAbort(job.signal);
    const upstream = svc.backend.chatStream(choice.endpoint, request, { signal: controller.signal, timeoutMs: svc.config.upstreamTimeoutMs });
    const translator = new ChatStreamTranslator({ response: job.base, nextSequence: job.nextSequence, newId: job.newId, now: () => svc.clock.nowMs(), started: job.resumed });
    const opening = () => (job.resumed ? translator.inProgress() : [...translator.created(), ...translator.inProgress()]);
    return streamThrough(upstream, translator, (chunk) => translator.push(chunk), controller, opening);
  },
};
