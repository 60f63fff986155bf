import type { ChatContentPart, ChatMessage, ChatToolCall, InputItem, JsonObject } from '../protocol/types.ts';
import { TranslationError } from './errors.ts';
import { partToChat, textOnly } from './parts.ts';

export interface InputOptions {
  /** 'replay' (default): reasoning items become `reasoning_content` of the next assistant message (vLLM reads it). */
  reasoning?: 'replay' | 'drop';
}

const ROLES = new Set(['user', 'system', 'developer', 'assistant']);

/** Responses `instructions` + `input` -> Chat `messages`. */
export function responsesInputToMessages(
  input: string | InputItem[],
  instructions?: string | InputItem[] | null,
  opts: InputOptions = {},
): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (typeof instructions === 'string') {
    if (instructions) out.push({ role: 'system', content: instructions });
  } else if (Array.isArray(instructions)) {
    appendItems(out, instructions, 'instructions', opts);
  }
  if (typeof input === 'string') out.push({ role: 'user', content: input });
  else appendItems(out, input, 'input', opts);
  return out;
}

function appendItems(out: ChatMessage[], items: readonly InputItem[], where: string, opts: InputOptions): void {
  const replay = (opts.reasoning ?? 'replay') === 'replay';
  // Reasoning belongs to the assistant turn right after it; another role in between drops it.
  let pending: string[] = [];
  const attachReasoning = (msg: ChatMessage) => {
    if (!pending.length) return;
    msg.reasoning_content = [msg.reasoning_content, ...pending].filter(Boolean).join('\n\n');
    pending = [];
  };
  const push = (msg: ChatMessage) => {
    if (msg.role === 'assistant') attachReasoning(msg);
    else pending = [];
    out.push(msg);
  };

  items.forEach((item, i) => {
    const param = `${where}[${i}]`;
    if (!item || typeof item !== 'object') throw new TranslationError(`Invalid input item at ${param}.`, param);
    // EasyInputMessage has no `type`.
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message':
        push(messageToChat(item, param));
        break;
      case 'function_call': {
        const call = toolCallOf(item, param);
        const last = out.at(-1);
        // Parallel calls, and text followed by calls, are one assistant turn in Chat.
        if (last?.role === 'assistant') {
          last.tool_calls = [...(last.tool_calls ?? []), call];
          attachReasoning(last);
        } else {
          push({ role: 'assistant', content: null, tool_calls: [call] });
        }
        break;
      }
      case 'function_call_output': {
        if (typeof item.call_id !== 'string') throw new TranslationError(`${param}.call_id is required.`, `${param}.call_id`);
        push({ role: 'tool', tool_call_id: item.call_id, content: toolOutput(item.output, `${param}.output`) });
        break;
      }
      case 'reasoning':
        if (replay) {
          const text = reasoningText(item);
          if (text) pending.push(text);
        }
        break;
      default:
        // item_reference included: resolving stored items is the service's job, not ours.
        throw new TranslationError(`Input item type '${String(type)}' is not supported by this backend.`, param);
    }
  });
}

function messageToChat(item: InputItem, param: string): ChatMessage {
  const role = item.role;
  if (typeof role !== 'string' || !ROLES.has(role)) {
    throw new TranslationError(`Unsupported message role '${String(role)}'.`, `${param}.role`);
  }
  const r = role as ChatMessage['role'];
  if (typeof item.content === 'string') return { role: r, content: item.content };
  if (!Array.isArray(item.content)) throw new TranslationError(`${param}.content must be a string or a list.`, `${param}.content`);
  const parts = item.content.map((p, j) => partToChat(p, `${param}.content[${j}]`));
  if (r === 'assistant') {
    // Chat assistant messages carry text only; backends' templates expect a string.
    const text = textOnly(parts);
    if (text === null) throw new TranslationError('Assistant messages may only contain text.', `${param}.content`);
    return { role: r, content: text };
  }
  if (parts.length === 1 && parts[0]!.type === 'text') return { role: r, content: parts[0]!.text };
  return { role: r, content: parts };
}

function toolCallOf(item: InputItem, param: string): ChatToolCall {
  const { call_id, name } = item;
  if (typeof call_id !== 'string') throw new TranslationError(`${param}.call_id is required.`, `${param}.call_id`);
  if (typeof name !== 'string') throw new TranslationError(`${param}.name is required.`, `${param}.name`);
  const args = item.arguments;
  return { id: call_id, type: 'function', function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) } };
}

/** function_call_output.output: a string, or parts (text joined; otherwise mapped). */
function toolOutput(output: unknown, param: string): string | ChatContentPart[] {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) throw new TranslationError(`${param} must be a string or a list.`, param);
  const parts = output.map((p, j) => partToChat(p, `${param}[${j}]`));
  return textOnly(parts) ?? parts;
}

function reasoningText(item: InputItem): string {
  const texts = [item.summary, item.content]
    .flatMap((list) => (Array.isArray(list) ? (list as JsonObject[]) : []))
    .map((p) => p?.text)
    .filter((t): t is string => typeof t === 'string' && t !== '');
  return texts.join('\n\n');
}
