import { outputTextOf } from '../protocol/response.ts';
import type { InputItem, OutputItem, ResponseObject } from '../protocol/types.ts';
import { ChatStreamTranslator } from '../stream/index.ts';
import { buildChatRequest, chatMessageToOutputItems, planTools, usageChatToResponses, type ToolPlan } from '../translate/index.ts';
import { isCompactionTurn } from '../translate/compaction.ts';
import type { ChatRequest } from '../protocol/types.ts';
import { droppedForChat, type CreateRequest } from '../protocol/request-fields.ts';
import { UpstreamError } from '../ports.ts';
import { log } from '../log.ts';
import { maskUrls } from '../redact.ts';
import type { BackendPath } from './backend-path.ts';
import { finishedRun, linkedAbort, streamThrough } from './backend-path.ts';
import { compactOnChat } from './chat-compaction.ts';
import { chatMessagesOf } from './chat-messages.ts';
import type { Services } from './context.ts';
import type { Job } from './turn.ts';
import type { Choice } from '../routing/choose-endpoint.ts';

// The translated path: Responses -> Chat Completions -> Responses.

const INCOMPLETE_REASONS: Record<string, string> = { length: 'max_output_tokens', content_filter: 'content_filter' };

/**
 * The Chat request for `req` (after `history`, with `input`) on this endpoint, and the tool plan
 * its answer is read back with: what a turn sends, and what input_tokens counts.
 */
export async function chatRequestOf(
  svc: Services, choice: Choice, req: CreateRequest, history: InputItem[], input: InputItem[], stream: boolean,
  tools: ToolPlan = planTools(req.tools, svc.config.unsupportedTools),
): Promise<{ request: ChatRequest; tools: ToolPlan }> {
  const messages = await chatMessagesOf(svc, choice, history, input, req.instructions, tools);
  return { request: buildChatRequest(req, messages, choice.model, { stream, tools }), tools };
}

/** The Chat request for a turn on this endpoint (what it drops, logged), and its tool plan. */
function chatRequest(svc: Services, choice: Choice, job: Job, stream: boolean): Promise<{ request: ChatRequest; tools: ToolPlan }> {
  const tools = planTools(job.req.tools, svc.config.unsupportedTools);
  const dropped = droppedForChat(job.req);
  const unmet = job.req.include?.filter((v) => v !== 'reasoning.encrypted_content');
  if (unmet?.length) dropped.include = `Chat backends have no such output: ${unmet.join(', ')}`;
  if (tools.leftOut.length) dropped.tools = `left out (a Chat backend cannot run them): ${tools.leftOut.map((t) => `${t.param} ${t.type}`).join(', ')}`;
  if (Object.keys(dropped).length) log.info('request fields a Chat backend cannot take were dropped', { id: job.base.id, endpoint: maskUrls(choice.endpoint.url), dropped });
  return chatRequestOf(svc, choice, job.req, job.history, job.input, stream, tools);
}

/** With `include: ["reasoning.encrypted_content"]`: the reasoning text, sealed, so a stateless client can send it back. */
function reasoningSealer(svc: Services, job: Job): ((text: string) => string) | undefined {
  return job.req.include?.includes('reasoning.encrypted_content') ? (text) => svc.sealer.seal('reasoning', text) : undefined;
}

const sealReasoning = (items: OutputItem[], seal?: (text: string) => string): OutputItem[] => (!seal ? items : items.map((item) =>
  (item.type === 'reasoning' ? { ...item, encrypted_content: seal((item.content as Array<{ text: string }> | undefined)?.map((p) => p.text).join('') ?? '') } : item)));

/** A compaction turn (input ending with `compaction_trigger`): one `compaction` item, the model's summary sealed. */
async function compactionTurn(svc: Services, choice: Choice, job: Job): Promise<ResponseObject> {
  const { item, usage } = await compactOnChat(svc, choice, { history: job.history, input: job.input, instructions: job.req.instructions }, job.newId, job.signal);
  return { ...job.base, status: 'completed', completed_at: Math.floor(svc.clock.nowMs() / 1000), output: [item], output_text: '', usage };
}

export const chatPath: BackendPath = {
  async run(svc, choice, job): Promise<ResponseObject> {
    if (isCompactionTurn(job.input)) return compactionTurn(svc, choice, job);
    const { request, tools } = await chatRequest(svc, choice, job, false);
    const completion = await svc.backend.chat(choice.endpoint, request, { signal: job.signal, timeoutMs: svc.config.upstreamTimeoutMs });
    const first = completion.choices[0];
    if (!first?.message) throw new UpstreamError('upstream answer has no message', 502, 'protocol');
    const incomplete = first.finish_reason ? INCOMPLETE_REASONS[first.finish_reason] : undefined;
    const ids = { msg: () => job.newId('msg'), fc: () => job.newId('fc'), ctc: () => job.newId('ctc'), rs: () => job.newId('rs') };
    const output = sealReasoning(chatMessageToOutputItems(first.message, ids, tools), reasoningSealer(svc, job)).map((item) =>
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
    if (isCompactionTurn(job.input)) return finishedRun(await compactionTurn(svc, choice, job), job);
    const { request, tools } = await chatRequest(svc, choice, job, true);
    const controller = linkedAbort(job.signal);
    const upstream = svc.backend.chatStream(choice.endpoint, request, { signal: controller.signal, timeoutMs: svc.config.upstreamTimeoutMs });
    const translator = new ChatStreamTranslator({
      response: job.base, nextSequence: job.nextSequence, newId: job.newId, now: () => svc.clock.nowMs(), started: job.resumed, tools,
      sealReasoning: reasoningSealer(svc, job),
    });
    const opening = () => (job.resumed ? translator.inProgress() : [...translator.created(), ...translator.inProgress()]);
    return streamThrough(upstream, translator, (chunk) => translator.push(chunk), controller, opening);
  },
};
