// Compaction on a Chat backend: the model writes the summary (translate/compaction.ts has the
// prompt), the gateway seals it into one `compaction` item. Used by a compaction turn (an input
// ending with `compaction_trigger`, as Codex's built-in provider sends) and by POST /v1/responses/compact.
import type { IdPrefix } from '../protocol/ids.ts';
import type { InputItem, OutputItem, Usage } from '../protocol/types.ts';
import type { Choice } from '../routing/choose-endpoint.ts';
import { UpstreamError } from '../ports.ts';
import { compactionMessages } from '../translate/compaction.ts';
import { planTools, usageChatToResponses } from '../translate/index.ts';
import { chatMessagesOf } from './chat-messages.ts';
import type { Services } from './context.ts';

export interface Compacted {
  item: OutputItem;
  usage: Usage | null;
}

/** One Chat call that summarizes `history` + `input` (no tools offered), sealed into a compaction item. */
export async function compactOnChat(
  svc: Services, choice: Choice, items: { history: InputItem[]; input: InputItem[]; instructions?: string | InputItem[] | null },
  newId: (prefix: IdPrefix) => string, signal?: AbortSignal,
): Promise<Compacted> {
  const conversation = await chatMessagesOf(svc, choice, items.history, items.input, items.instructions, planTools([]));
  const completion = await svc.backend.chat(choice.endpoint, { model: choice.model, messages: compactionMessages(conversation) }, { signal, timeoutMs: svc.config.upstreamTimeoutMs });
  const message = completion.choices[0]?.message;
  if (!message) throw new UpstreamError('upstream answer has no message', 502, 'protocol');
  const content = message.content;
  const summary = (typeof content === 'string' ? content : (content ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('')).trim();
  if (!summary) throw new UpstreamError('the model wrote an empty summary', 502, 'protocol');
  return {
    item: { type: 'compaction', id: newId('cmp'), encrypted_content: svc.sealer.seal('compaction', summary) },
    usage: usageChatToResponses(completion.usage),
  };
}
