import { outputTextOf } from '../protocol/response.ts';
import type { ResponseObject } from '../protocol/types.ts';
import { ChatStreamTranslator } from '../stream/index.ts';
import { buildChatRequest, chatMessageToOutputItems, planTools, responsesInputToMessages, usageChatToResponses, type ToolPlan } from '../translate/index.ts';
import type { ChatRequest } from '../protocol/types.ts';
import { filesAsText } from './chat-files.ts';
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

/** The Chat request for a turn on this endpoint, and the tool plan its answer is read back with. */
async function chatRequest(svc: Services, choice: Choice, job: Job, stream: boolean): Promise<{ request: ChatRequest; tools: ToolPlan }> {
  const tools = planTools(job.req.tools, svc.config.unsupportedTools);
  const dropped = droppedForChat(job.req);
  if (tools.leftOut.length) dropped.tools = `left out (a Chat backend cannot run them): ${tools.leftOut.map((t) => `${t.param} ${t.type}`).join(', ')}`;
  if (Object.keys(dropped).length) log.info('request fields a Chat backend cannot take were dropped', { id: job.base.id, endpoint: maskUrls(choice.endpoint.url), dropped });
  let items = [...job.history, ...job.input];
  if (choice.endpoint.files !== 'parts') {
    const first = job.history.length;
    items = await filesAsText(items, svc.documents, (i) => (i < first ? `(history item ${i})` : `input[${i - first}]`));
  }
  const messages = responsesInputToMessages(items, job.req.instructions, { reasoning: svc.config.reasoningHistory, tools });
  return { request: buildChatRequest(job.req, messages, choice.model, { stream, tools }), tools };
}

export const chatPath: BackendPath = {
  async run(svc, choice, job): Promise<ResponseObject> {
    const { request, tools } = await chatRequest(svc, choice, job, false);
    const completion = await svc.backend.chat(choice.endpoint, request, { signal: job.signal, timeoutMs: svc.config.upstreamTimeoutMs });
    const first = completion.choices[0];
    if (!first?.message) throw new UpstreamError('upstream answer has no message', 502, 'protocol');
    const incomplete = first.finish_reason ? INCOMPLETE_REASONS[first.finish_reason] : undefined;
    const ids = { msg: () => job.newId('msg'), fc: () => job.newId('fc'), ctc: () => job.newId('ctc'), rs: () => job.newId('rs') };
    const output = chatMessageToOutputItems(first.message, ids, tools).map((item) =>
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
    const { request, tools } = await chatRequest(svc, choice, job, true);
    const controller = linkedAbort(job.signal);
    const upstream = svc.backend.chatStream(choice.endpoint, request, { signal: controller.signal, timeoutMs: svc.config.upstreamTimeoutMs });
    const translator = new ChatStreamTranslator({
      response: job.base, nextSequence: job.nextSequence, newId: job.newId, now: () => svc.clock.nowMs(), started: job.resumed, tools,
    });
    const opening = () => (job.resumed ? translator.inProgress() : [...translator.created(), ...translator.inProgress()]);
    return streamThrough(upstream, translator, (chunk) => translator.push(chunk), controller, opening);
  },
};
