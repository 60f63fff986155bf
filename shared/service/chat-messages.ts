// The items of a turn as a Chat endpoint gets them: sealed content opened (chat-sealed.ts), files
// as text where the endpoint needs it (chat-files.ts), then translated into messages.
import type { ChatMessage, InputItem } from '../protocol/types.ts';
import type { Choice } from '../routing/choose-endpoint.ts';
import { responsesInputToMessages, type ToolPlan } from '../translate/index.ts';
import { filesAsText } from './chat-files.ts';
import { unsealForChat } from './chat-sealed.ts';
import type { Services } from './context.ts';

/** `history` then `input` (the client's, named `input[i]` in errors) as Chat messages for this endpoint. */
export async function chatMessagesOf(
  svc: Services, choice: Choice, history: readonly InputItem[], input: readonly InputItem[],
  instructions: string | InputItem[] | null | undefined, tools: ToolPlan,
): Promise<ChatMessage[]> {
  const first = history.length;
  let items = unsealForChat([...history, ...input], svc.sealer, (i) => (i < first ? null : `input[${i - first}]`));
  if (choice.endpoint.files !== 'parts') {
    items = await filesAsText(items, svc.documents, (i) => (i < first ? `(history item ${i})` : `input[${i - first}]`));
  }
  return responsesInputToMessages(items, instructions, { reasoning: svc.config.reasoningHistory, tools });
}
