// Compaction on Chat backends: the model itself writes the summary of a conversation (a Chat call
// over the history with the prompt below appended), the gateway seals it into a `compaction`
// item, and a later request carrying that item gives the model the summary as text.
import { itemTypeOf } from '../protocol/input-schema.ts';
import type { ChatMessage, InputItem, JsonObject } from '../protocol/types.ts';
import { templateShaped } from './roles.ts';

export const COMPACTION_PROMPT = [
  'Compact the conversation above into a summary that will replace it: another model will continue',
  'the work from your summary alone. Write it as plain text and keep what that model needs: the',
  "user's goals and constraints, decisions made and why, what was done (files, commands, results),",
  'what is still open and the next steps, and any names, paths, numbers or errors that matter.',
  'Leave out pleasantries. Answer with the summary only.',
].join('\n');

/** How a summary is shown to the model in place of the turns it replaces. */
export const SUMMARY_PREFIX = 'Summary of the earlier part of this conversation (compacted):\n\n';

/** The Chat messages of a compaction call: the conversation, then the request for its summary. No tools. */
export function compactionMessages(conversation: readonly ChatMessage[]): ChatMessage[] {
  return templateShaped([...conversation, { role: 'user', content: COMPACTION_PROMPT }]);
}

/** The user message a compaction item stands for once opened. */
export function summaryMessage(summary: string): InputItem {
  return { type: 'message', role: 'user', content: [{ type: 'input_text', text: SUMMARY_PREFIX + summary }] };
}

/** A compaction turn's request: its input ends with a `compaction_trigger` item (Codex's built-in provider). */
export function isCompactionTurn(input: readonly InputItem[]): boolean {
  return input.at(-1)?.type === 'compaction_trigger';
}

/** What the compact endpoint keeps of the conversation: every user message, in order (OpenAI keeps these). */
export function userMessagesOf(items: readonly InputItem[]): InputItem[] {
  return items
    .filter((i) => itemTypeOf(i) === 'message' && i.role === 'user')
    .map((i) => ({ ...(structuredClone(i) as JsonObject), type: 'message' }) as InputItem);
}
