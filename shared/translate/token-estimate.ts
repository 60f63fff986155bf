// A prompt's size in tokens where no tokenizer can count it (Ollama has no tokenize API): about
// four characters a token over what the model reads (each message's text and tool calls, the
// tools' definitions), four more a message for the template's role markers, a flat 256 an image
// or file. For English prose and code this lands within about a fifth of what Llama or Qwen
// tokenizers count; other scripts can be far off. Whoever returns it marks it as an estimate.
import type { ChatRequest } from '../protocol/types.ts';

const CHARS_PER_TOKEN = 4;
const PER_MESSAGE = 4;
const PER_ATTACHMENT = 256;

export function estimateTokens(req: Pick<ChatRequest, 'messages' | 'tools'>): number {
  let chars = 0;
  let extra = 3; // the assistant turn's opening
  for (const m of req.messages) {
    extra += PER_MESSAGE;
    if (typeof m.content === 'string') chars += m.content.length;
    else for (const p of m.content ?? []) p.type === 'text' ? (chars += p.text.length) : (extra += PER_ATTACHMENT);
    for (const call of m.tool_calls ?? []) chars += call.function.name.length + call.function.arguments.length;
    chars += (m.reasoning_content ?? '').length;
  }
  if (req.tools?.length) chars += JSON.stringify(req.tools).length;
  return Math.ceil(chars / CHARS_PER_TOKEN) + extra;
}
