import { newId } from '../protocol/ids.ts';
import type { ChatMessage, ChatToolCall, MessageItem, OutputItem } from '../protocol/types.ts';
import { customInputOf, type ToolPlan } from './tools.ts';

export interface OutputIds { msg(): string; fc(): string; ctc(): string; rs(): string }

const defaultIds: OutputIds = { msg: () => newId('msg'), fc: () => newId('fc'), ctc: () => newId('ctc'), rs: () => newId('rs') };

/** A Chat assistant message -> Responses output items: reasoning, message, then tool calls. */
export function chatMessageToOutputItems(msg: ChatMessage, ids: OutputIds = defaultIds, tools?: ToolPlan): OutputItem[] {
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

  for (const tc of calls) items.push(toolCallItem(tc, ids, tools));
  return items;
}

/** One Chat tool call as the Responses item its tool calls for: function_call or custom_tool_call. */
function toolCallItem(tc: ChatToolCall, ids: OutputIds, tools?: ToolPlan): OutputItem {
  const raw: unknown = tc.function?.arguments;
  // Some backends hand back parsed arguments; the Responses API wants a JSON string.
  const args = typeof raw === 'string' ? raw : JSON.stringify(raw ?? {});
  const chatName = tc.function?.name ?? '';
  const target = tools?.target(chatName);
  const callId = tc.id || newId('call');
  const namespace = target?.namespace ? { namespace: target.namespace } : {};
  if (target?.kind === 'custom') {
    return { type: 'custom_tool_call', id: ids.ctc(), call_id: callId, ...namespace, name: target.name, input: customInputOf(args), status: 'completed' };
  }
  return { type: 'function_call', id: ids.fc(), call_id: callId, ...namespace, name: target?.name ?? chatName, arguments: args, status: 'completed' };
}
