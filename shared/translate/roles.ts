// Chat messages as common chat templates (the Jinja templates vLLM and llama.cpp apply, Ollama's
// Go templates) accept them. Many reject the `developer` role, a system message that is not the
// first message, or two user (or two assistant) turns in a row. So:
// - every system and developer message (and string `instructions`) becomes part of ONE leading
//   system message, in order, joined by a blank line: a later one moves up to it;
// - consecutive user messages become one, and so do consecutive assistant messages (their text,
//   tool calls and reasoning joined); tool results stay as they are, one message per call.
import type { ChatContentPart, ChatMessage } from '../protocol/types.ts';

const textOf = (content: ChatMessage['content']): string =>
  typeof content === 'string' ? content : (content ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('\n');

const partsOf = (content: ChatMessage['content']): ChatContentPart[] =>
  typeof content === 'string' ? (content ? [{ type: 'text', text: content }] : []) : (content ?? []);

function joinContent(a: ChatMessage['content'], b: ChatMessage['content']): ChatMessage['content'] {
  if (a == null || a === '') return b;
  if (b == null || b === '') return a;
  if (typeof a === 'string' && typeof b === 'string') return `${a}\n\n${b}`;
  return [...partsOf(a), ...partsOf(b)];
}

const joinText = (a?: string, b?: string): string | undefined => [a, b].filter(Boolean).join('\n\n') || undefined;

/** Merges `next` into `into` (same role, user or assistant). */
function merge(into: ChatMessage, next: ChatMessage): void {
  into.content = joinContent(into.content, next.content);
  if (next.tool_calls?.length) into.tool_calls = [...(into.tool_calls ?? []), ...next.tool_calls];
  const reasoning = joinText(into.reasoning_content, next.reasoning_content);
  if (reasoning) into.reasoning_content = reasoning;
  if (next.refusal) into.refusal = joinText(into.refusal ?? undefined, next.refusal) ?? null;
}

/** One leading system message, then turns that alternate where templates need them to. */
export function templateShaped(messages: readonly ChatMessage[]): ChatMessage[] {
  const system: string[] = [];
  const turns: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === 'system' || m.role === 'developer') {
      const text = textOf(m.content);
      if (text) system.push(text);
      continue;
    }
    const last = turns.at(-1);
    if (last && last.role === m.role && (m.role === 'user' || m.role === 'assistant')) merge(last, m);
    else turns.push({ ...m });
  }
  return system.length ? [{ role: 'system', content: system.join('\n\n') }, ...turns] : turns;
}
