// POST /v1/responses/compact (SDK `responses.compact`): a conversation made short. On a Chat
// backend the model writes the summary (chat-compaction.ts) and the answer has OpenAI's shape:
// every user message, then one compaction item holding the summary, sealed by the gateway (a later
// request carrying it gives the model the summary as text). A native backend compacts it itself.
// Nothing is stored: the answer is for the client to send back.
import { itemIdsFor, newId } from '../protocol/ids.ts';
import { asCreateRequest, type CompactRequest } from '../protocol/side-requests.ts';
import type { InputItem, OutputItem, Usage } from '../protocol/types.ts';
import type { Choice } from '../routing/choose-endpoint.ts';
import { userMessagesOf } from '../translate/compaction.ts';
import { normalizeInputItems } from '../translate/index.ts';
import { compactOnChat } from './chat-compaction.ts';
import type { Caller, Services } from './context.ts';
import { nativeBody } from './native-path.ts';
import { readContext } from './turn.ts';
import { rethrowUpstream } from './upstream-errors.ts';

export interface CompactedResponse {
  id: string;
  object: 'response.compaction';
  created_at: number;
  output: OutputItem[];
  usage: Usage;
}

const NO_USAGE: Usage = { input_tokens: 0, output_tokens: 0, total_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } };

/**
 * The compacted conversation, and what is left once the client has it (the concurrency slot's
 * release, as for a create). `signal`: the client left or the server stops.
 */
export async function compactConversation(
  svc: Services, caller: Caller, req: CompactRequest, signal?: AbortSignal,
): Promise<{ body: CompactedResponse; afterSent: () => Promise<void> }> {
  const { history, input } = await readContext(svc, caller, req);
  const ranked = await svc.router.rank(req.model);
  const id = newId('resp');
  const createdAt = Math.floor(svc.clock.nowMs() / 1000);
  const routed = await svc.router.call(ranked, (choice) => (choice.endpoint.kind === 'responses'
    ? onNative(svc, choice, req, [...history, ...input], id, signal)
    : onChat(svc, choice, req, history, input, id, createdAt, signal)), signal).catch((err: unknown) => rethrowUpstream(err, signal));
  return { body: routed.value, afterSent: routed.release };
}

async function onChat(
  svc: Services, choice: Choice, req: CompactRequest, history: InputItem[], input: InputItem[], id: string, createdAt: number, signal?: AbortSignal,
): Promise<CompactedResponse> {
  const ids = itemIdsFor(id);
  const { item, usage } = await compactOnChat(svc, choice, { history, input, instructions: req.instructions }, ids, signal);
  const kept = normalizeInputItems(userMessagesOf([...history, ...input]), ids) as OutputItem[];
  return { id, object: 'response.compaction', created_at: createdAt, output: [...kept, item], usage: usage ?? NO_USAGE };
}

/** The upstream's own compaction, of the whole history (our previous_response_id means nothing to it), under our id. */
async function onNative(svc: Services, choice: Choice, req: CompactRequest, items: InputItem[], id: string, signal?: AbortSignal): Promise<CompactedResponse> {
  const body = nativeBody(asCreateRequest(req, choice.model), choice.model, items);
  const answer = await svc.backend.responsesJson(choice.endpoint, 'compact', body, { signal, timeoutMs: svc.config.upstreamTimeoutMs });
  return { ...answer, id } as unknown as CompactedResponse;
}
