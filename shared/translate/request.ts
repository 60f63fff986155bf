import type { ChatMessage, ChatRequest, CreateRequest } from '../protocol/types.ts';
import { textFormatToResponseFormat } from './format.ts';
import { toolChoiceResponsesToChat, toolsResponsesToChat } from './tools.ts';

/** The Chat Completions body for a Responses request. Unset settings are left out, not sent as null. */
export function buildChatRequest(req: CreateRequest, messages: ChatMessage[], model: string, opts: { stream: boolean }): ChatRequest {
  const out: ChatRequest = { model, messages };
  if (opts.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true }; // else no usage arrives on the stream
  }
  const tools = toolsResponsesToChat(req.tools);
  if (tools?.length) {
    // Chat servers reject tool_choice / parallel_tool_calls without tools.
    out.tools = tools;
    const tc = toolChoiceResponsesToChat(req.tool_choice);
    if (tc !== undefined) out.tool_choice = tc;
    if (req.parallel_tool_calls != null) out.parallel_tool_calls = req.parallel_tool_calls;
  }
  // Kept alongside tools: structured output for the final answer still applies.
  const format = textFormatToResponseFormat(req.text);
  if (format) out.response_format = format;
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.top_p = req.top_p;
  // max_tokens rather than max_completion_tokens: Ollama and vLLM both accept it.
  if (req.max_output_tokens != null) out.max_tokens = req.max_output_tokens;
  // metadata is not forwarded: Chat servers reject it (OpenAI unless store=true).
  const user = req.user ?? req.safety_identifier;
  if (user != null) out.user = user;
  const effort = req.reasoning?.effort;
  if (typeof effort === 'string') out.reasoning_effort = effort;
  return out;
}
