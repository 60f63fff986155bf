import type { ChatMappedField, CreateRequest } from '../protocol/request-fields.ts';
import type { ChatMessage, ChatRequest } from '../protocol/types.ts';
import { textFormatToResponseFormat } from './format.ts';
import { leftOutTools, planTools, toolChoiceToChat, type ToolPlan, type UnsupportedTools } from './tools.ts';
import { TranslationError } from './errors.ts';

type Mapper = (req: CreateRequest, out: ChatRequest, plan: ToolPlan) => void;

/**
 * How each field the table (protocol/request-fields.ts) marks `chat: 'mapped'` reaches a Chat
 * request: exactly those, or this does not compile. In table order, so `tools` is set before
 * the fields that only go with tools.
 */
const MAPPERS: Record<ChatMappedField, Mapper> = {
  tools: (_req, out, plan) => {
    if (plan.tools.length) out.tools = plan.tools;
  },
  // Chat servers reject tool_choice / parallel_tool_calls without tools; a choice of a tool the
  // backend cannot run is refused even then.
  tool_choice: (req, out, plan) => {
    const tc = toolChoiceToChat(req.tool_choice, plan);
    if (tc === 'required' && !out.tools && plan.leftOut.length) {
      throw new TranslationError("tool_choice 'required' cannot be met: every tool of this request is one this backend cannot run.", 'tool_choice');
    }
    if (tc !== undefined && out.tools) out.tool_choice = tc;
  },
  parallel_tool_calls: (req, out) => {
    if (out.tools && req.parallel_tool_calls != null) out.parallel_tool_calls = req.parallel_tool_calls;
  },
  // Kept alongside tools: structured output for the final answer still applies.
  text: (req, out) => {
    const format = textFormatToResponseFormat(req.text);
    if (format) out.response_format = format;
    const verbosity = req.text?.verbosity;
    if (typeof verbosity === 'string') out.verbosity = verbosity;
  },
  reasoning: (req, out) => {
    const effort = req.reasoning?.effort;
    if (typeof effort === 'string') out.reasoning_effort = effort;
  },
  temperature: (req, out) => { if (req.temperature != null) out.temperature = req.temperature; },
  top_p: (req, out) => { if (req.top_p != null) out.top_p = req.top_p; },
  presence_penalty: (req, out) => { if (req.presence_penalty != null) out.presence_penalty = req.presence_penalty; },
  frequency_penalty: (req, out) => { if (req.frequency_penalty != null) out.frequency_penalty = req.frequency_penalty; },
  // max_tokens rather than max_completion_tokens: Ollama and vLLM both accept it.
  max_output_tokens: (req, out) => { if (req.max_output_tokens != null) out.max_tokens = req.max_output_tokens; },
  user: (req, out) => { if (req.user != null) out.user = req.user; },
  safety_identifier: (req, out) => { if (req.user == null && req.safety_identifier != null) out.user = req.safety_identifier; },
};

/** The Chat Completions body for a Responses request. Unset settings are left out, not sent as null. */
export function buildChatRequest(req: CreateRequest, messages: ChatMessage[], model: string, opts: { stream: boolean; tools?: ToolPlan }): ChatRequest {
  const out: ChatRequest = { model, messages };
  if (opts.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true }; // else no usage arrives on the stream
  }
  const plan = opts.tools ?? planTools(req.tools);
  for (const map of Object.values(MAPPERS)) map(req, out, plan);
  return out;
}

/** Throws the 400 that buildChatRequest would for this request's tools and tool_choice (checked before a background job is queued). */
export function checkChatTools(req: CreateRequest, mode: UnsupportedTools): void {
  buildChatRequest(req, [], req.model, { stream: false, tools: planTools(req.tools, mode) });
}

const LEFT_OUT_TOOLS_HEADER = 'x-gateway-unsupported-tools';

/** The header that names the hosted tools a Chat backend left out of the request (none: no header); per request, so without a whole tool plan. */
export function leftOutToolsHeader(req: CreateRequest): Record<string, string> {
  const types = [...new Set(leftOutTools(req.tools).map((t) => t.type))];
  return types.length ? { [LEFT_OUT_TOOLS_HEADER]: types.join(',') } : {};
}
