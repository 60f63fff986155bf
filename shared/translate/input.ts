// Responses `instructions` + `input` items -> Chat `messages`, item by item; roles.ts then shapes
// them as chat templates want them (one leading system message, alternating turns).
import { ITEM_TYPES, itemTypeOf } from '../protocol/input-schema.ts';
import type { ChatContentPart, ChatMessage, ChatToolCall, InputItem, JsonObject } from '../protocol/types.ts';
import { TranslationError } from './errors.ts';
import { partToChat, textOnly } from './parts.ts';
import { templateShaped } from './roles.ts';
import { customArgumentsOf, planTools, type ToolPlan } from './tools.ts';

export interface InputOptions {
  /** 'replay' (default): reasoning items become `reasoning_content` of the next assistant message (vLLM reads it). */
  reasoning?: 'replay' | 'drop';
  /** The request's tools as the model sees them: calls in the history go under the same names. */
  tools?: ToolPlan;
}

const ROLES = new Set(['user', 'system', 'developer', 'assistant']);

/** Responses `instructions` + `input` -> Chat `messages`. */
export function responsesInputToMessages(
  input: string | InputItem[],
  instructions?: string | InputItem[] | null,
  opts: InputOptions = {},
): ChatMessage[] {
  const out: ChatMessage[] = [];
  const tools = opts.tools ?? planTools([]);
  if (typeof instructions === 'string') {
    if (instructions) out.push({ role: 'system', content: instructions });
  } else if (Array.isArray(instructions)) {
    appendItems(out, instructions, 'instructions', opts, tools);
  }
  if (typeof input === 'string') out.push({ role: 'user', content: input });
  else appendItems(out, input, 'input', opts, tools);
  return templateShaped(out);
}

function appendItems(out: ChatMessage[], items: readonly InputItem[], where: string, opts: InputOptions, tools: ToolPlan): void {
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
  // Parallel calls, and text followed by calls, are one assistant turn in Chat: templateShaped
  // (roles.ts) merges consecutive assistant messages, their text, calls and reasoning.
  const pushCall = (call: ChatToolCall) => push({ role: 'assistant', content: null, tool_calls: [call] });

  items.forEach((item, i) => {
    const param = `${where}[${i}]`;
    if (!item || typeof item !== 'object') throw new TranslationError(`Invalid input item at ${param}.`, param);
    const type = itemTypeOf(item);
    switch (type) {
      case 'message':
        push(messageToChat(item, param));
        break;
      case 'function_call':
        pushCall(callOf(item, param, tools.chatName('function', String(item.name), item.namespace as string | undefined), argumentsOf(item.arguments)));
        break;
      case 'custom_tool_call':
        pushCall(callOf(item, param, tools.chatName('custom', String(item.name), item.namespace as string | undefined), customArgumentsOf(String(item.input ?? ''))));
        break;
      case 'function_call_output':
      case 'custom_tool_call_output': {
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
        // A known item the cases above do not map is one a Chat model cannot use, left out of
        // what it sees: calls of hosted tools and their results (the backend never offered those
        // tools), tool discovery and code-mode items, and compaction items with their trigger
        // (the gateway's own compaction items were opened into their summary before this:
        // service/chat-sealed.ts; what is left here holds nothing readable). Not item_reference:
        // resolving stored items is the service's job, so one left here is an error, as an
        // unknown type is.
        if (type !== 'item_reference' && ITEM_TYPES.has(type)) break;
        throw new TranslationError(`Input item type '${type}' is not supported by this backend.`, param);
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
  if (r === 'assistant' || r === 'system' || r === 'developer') {
    // Chat templates take text only in these roles; instruction blocks stay apart (as vLLM joins them).
    const text = textOnly(parts, r === 'assistant' ? '' : '\n');
    if (text === null) throw new TranslationError(`${role} messages may only contain text on this backend.`, `${param}.content`);
    return { role: r, content: text };
  }
  if (parts.length === 1 && parts[0]!.type === 'text') return { role: r, content: parts[0]!.text };
  return { role: r, content: parts };
}

const argumentsOf = (args: unknown): string => (typeof args === 'string' ? args : JSON.stringify(args ?? {}));

function callOf(item: InputItem, param: string, chatName: string, args: string): ChatToolCall {
  if (typeof item.call_id !== 'string') throw new TranslationError(`${param}.call_id is required.`, `${param}.call_id`);
  if (typeof item.name !== 'string') throw new TranslationError(`${param}.name is required.`, `${param}.name`);
  return { id: item.call_id, type: 'function', function: { name: chatName, arguments: args } };
}

/** A tool's output: a string, or parts (text joined; otherwise mapped). */
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
