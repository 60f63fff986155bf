import type { ChatContentPart, ChatMessage, InputItem, JsonObject } from '../protocol/types.ts';

const textOf = (content: ChatMessage['content']): string =>
  typeof content === 'string' ? content : (content ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('');

function partToResponses(p: ChatContentPart): JsonObject {
  switch (p.type) {
    case 'text':
      return { type: 'input_text', text: p.text };
    case 'image_url': // the Responses API requires `detail`
      return { type: 'input_image', image_url: p.image_url.url, detail: p.image_url.detail ?? 'auto' };
    case 'file':
      return { type: 'input_file', ...p.file };
    case 'input_audio':
      return { type: 'input_audio', input_audio: { ...p.input_audio } };
  }
}

/**
 * Chat messages -> Responses `instructions` and input items (the native path). System messages
 * become instructions; developer messages stay in place as developer items.
 */
export function messagesToResponsesInput(messages: readonly ChatMessage[]): { instructions: string | null; items: InputItem[] } {
  const system: string[] = [];
  const items: InputItem[] = [];
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        system.push(textOf(m.content));
        break;
      case 'user':
      case 'developer':
        items.push({
          role: m.role,
          content: typeof m.content === 'string' ? [{ type: 'input_text', text: m.content }] : (m.content ?? []).map(partToResponses),
        });
        break;
      case 'assistant': {
        const content: JsonObject[] = [];
        const text = textOf(m.content);
        if (text) content.push({ type: 'output_text', text });
        if (m.refusal) content.push({ type: 'refusal', refusal: m.refusal });
        if (content.length) items.push({ role: 'assistant', content });
        for (const tc of m.tool_calls ?? []) {
          items.push({ type: 'function_call', call_id: tc.id, name: tc.function.name, arguments: tc.function.arguments });
        }
        break;
      }
      case 'tool':
        items.push({ type: 'function_call_output', call_id: m.tool_call_id ?? '', output: textOf(m.content) });
        break;
    }
  }
  return { instructions: system.length ? system.join('\n\n') : null, items };
}
