import type { CreateRequest, OutputItem, ResponseObject, ResponseStatus, Usage } from './types.ts';

/** The SDK's `output_text`: every output_text part of every assistant message, joined. */
export function outputTextOf(output: readonly OutputItem[]): string {
  let text = '';
  for (const item of output) {
    if (item.type !== 'message' || !Array.isArray(item.content)) continue;
    for (const part of item.content as Array<{ type: string; text?: string }>) {
      if (part.type === 'output_text' && typeof part.text === 'string') text += part.text;
    }
  }
  return text;
}

export interface ResponseInit {
  id: string;
  model: string;
  createdAt: number;
  status?: ResponseStatus;
  request?: Partial<CreateRequest>;
  output?: OutputItem[];
  usage?: Usage | null;
}

/**
 * A Response object carrying every field of the public API, the request's settings echoed
 * back as OpenAI does (null where unset). Pure: the caller supplies id and clock.
 */
export function newResponseObject(init: ResponseInit): ResponseObject {
  const req = init.request ?? {};
  const output = init.output ?? [];
  const status = init.status ?? 'completed';
  return {
    id: init.id,
    object: 'response',
    created_at: init.createdAt,
    completed_at: status === 'completed' ? init.createdAt : null,
    status,
    background: req.background ?? false,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    max_tool_calls: req.max_tool_calls ?? null,
    model: init.model,
    output,
    output_text: outputTextOf(output),
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    conversation: req.conversation == null ? null : { id: typeof req.conversation === 'string' ? req.conversation : req.conversation.id },
    prompt: null,
    prompt_cache_key: req.prompt_cache_key ?? null,
    reasoning: { effort: (req.reasoning?.effort as string | undefined) ?? null, summary: (req.reasoning?.summary as string | undefined) ?? null },
    safety_identifier: req.safety_identifier ?? null,
    service_tier: req.service_tier ?? 'default',
    store: req.store ?? true,
    temperature: req.temperature ?? 1,
    text: req.text ?? { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: req.tool_choice ?? 'auto',
    tools: req.tools ?? [],
    top_logprobs: req.top_logprobs ?? 0,
    top_p: req.top_p ?? 1,
    truncation: req.truncation ?? 'disabled',
    usage: init.usage ?? null,
    user: req.user ?? null,
    metadata: req.metadata ?? {},
  };
}

/** The spec's `build_response_object(response_id, model, output_items)`. */
export const buildResponseObject = (a: { response_id: string; model: string; output_items: OutputItem[]; usage?: Usage | null; created_at?: number }) =>
  newResponseObject({ id: a.response_id, model: a.model, output: a.output_items, usage: a.usage ?? null, createdAt: a.created_at ?? Math.floor(Date.now() / 1000) });
