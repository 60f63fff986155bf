import { newId } from '../protocol/ids.ts';
import type { ChatMessage, MessageItem, OutputItem } from '../protocol/types.ts';

export interface OutputIds { msg(): string; fc(): string; rs(): string }

const defaultIds: OutputIds = { msg: () => newId('msg'), fc: () => newId('fc'), rs: () => newId('rs') };

/** A Chat assistant message -> Responses output items: reasoning, message, then function calls. */
export function chatMessageToOutputItems(msg: ChatMessage, ids: OutputIds = defaultIds): OutputItem[] {
  const items: OutputItem[] = [];
  // vLLM sends reasoning_content, Ollama's OpenAI layer `reasoning`.
  const reasoning = msg.reasoning_content || msg.reasoning;
  if (reasoning) {
    items.push({ type: 'reasoning', id: ids.rs(), summary: [], content: [{ type: 'reasoning_text', text: reasoning }], status: 'completed' });
  }

  const text = typeof msg.content === 'string'
    ? msg.content
    : (msg.content ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('');
  const calls = msg.tool_calls ?? [];
  const content: MessageItem['content'] = [];
  // A reply with nothing else still yields a (possibly empty) message, so output_text exists.
  if (text || (!msg.refusal && !calls.length && !reasoning)) {
    content.push({ type: 'output_text', text, annotations: [], logprobs: [] });
  }
  if (msg.refusal) content.push({ type: 'refusal', refusal: msg.refusal });
  if (content.length) items.push({ type: 'message', id: ids.msg(), role: 'assistant', status: 'completed', content });

  for (const tc of calls) {
    const args: unknown = tc.function?.arguments;
    items.push({
      type: 'function_call',
      id: ids.fc(),
      call_id: tc.id || newId('call'),
      name: tc.function?.name ?? '',
      // Some backends hand back parsed arguments; the Responses API wants a JSON string.
      arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
      status: 'completed',
    });
  }
  return items;
}
