// Wire types of the two protocols we speak. Kept loose on purpose: we pass through fields we do
// not model, and the openai SDK's own types are the reference for what each field means.

export type JsonObject = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

// ── Responses API ────────────────────────────────────────────────────────────

export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'failed' | 'incomplete' | 'cancelled';
export const TERMINAL_STATUSES: readonly ResponseStatus[] = ['completed', 'failed', 'incomplete', 'cancelled'];
/** A response in this status is finished: nothing changes it any more. */
export const isTerminalStatus = (s: ResponseStatus): boolean => TERMINAL_STATUSES.includes(s);

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}
export interface Refusal { type: 'refusal'; refusal: string }

export interface MessageItem {
  type: 'message';
  id: string;
  role: 'assistant';
  status: 'in_progress' | 'completed' | 'incomplete';
  content: Array<OutputText | Refusal>;
}
export interface FunctionCallItem {
  type: 'function_call';
  id: string;
  call_id: string;
  /** The namespace tool it belongs to, when it is one of a namespace's functions. */
  namespace?: string;
  name: string;
  arguments: string;
  status: 'in_progress' | 'completed' | 'incomplete';
}
/** A call of a custom (freeform) tool: its raw text input. */
export interface CustomToolCallItem {
  type: 'custom_tool_call';
  id: string;
  call_id: string;
  namespace?: string;
  name: string;
  input: string;
  status: 'in_progress' | 'completed' | 'incomplete';
}
export interface ReasoningItem {
  type: 'reasoning';
  id: string;
  summary: Array<{ type: 'summary_text'; text: string }>;
  content?: Array<{ type: 'reasoning_text'; text: string }>;
  encrypted_content?: string | null;
  status?: 'in_progress' | 'completed' | 'incomplete';
}
export type OutputItem = MessageItem | FunctionCallItem | CustomToolCallItem | ReasoningItem | (JsonObject & { type: string; id?: string });

/** An input item as a client may send it (loose: validated in protocol/input-schema.ts). */
export type InputItem = JsonObject & { type?: string; role?: string };

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens_details: { reasoning_tokens: number };
}

export interface ResponseError { code: string; message: string }

/** The Response object, with every field the public API returns (nullable ones as null). */
export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  completed_at: number | null;
  status: ResponseStatus;
  background: boolean;
  error: ResponseError | null;
  incomplete_details: { reason: string } | null;
  instructions: string | InputItem[] | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  model: string;
  output: OutputItem[];
  output_text: string;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  conversation: { id: string } | null;
  prompt: unknown | null;
  prompt_cache_key: string | null;
  reasoning: { effort: string | null; summary: string | null } | JsonObject;
  safety_identifier: string | null;
  service_tier: string | null;
  store: boolean;
  temperature: number | null;
  presence_penalty: number;
  frequency_penalty: number;
  text: JsonObject;
  tool_choice: unknown;
  tools: unknown[];
  top_logprobs: number | null;
  top_p: number | null;
  truncation: string | null;
  usage: Usage | null;
  user: string | null;
  metadata: Record<string, string>;
  [extra: string]: unknown;
}

/** A streamed Responses event. `sequence_number` counts from 0 within one response. */
export interface StreamEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

// ── Chat Completions ─────────────────────────────────────────────────────────

export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: string } }
  | { type: 'file'; file: { file_id?: string; file_data?: string; filename?: string } }
  | { type: 'input_audio'; input_audio: { data: string; format: string } };

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
  /** vLLM's field for reasoning text; Ollama's OpenAI layer uses `reasoning`. */
  reasoning_content?: string;
  reasoning?: string;
  /** OpenAI's refusal text on assistant replies (null when the model did not refuse). */
  refusal?: string | null;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage: boolean };
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters?: unknown; strict?: boolean } }>;
  tool_choice?: unknown;
  response_format?: unknown;
  temperature?: number;
  top_p?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  parallel_tool_calls?: boolean;
  metadata?: Record<string, string>;
  user?: string;
  safety_identifier?: string;
  reasoning_effort?: string;
  [extra: string]: unknown;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{ index: number; message: ChatMessage; finish_reason: string | null }>;
  usage?: ChatUsage | null;
}

export interface ChatToolCallDelta {
  index: number;
  id?: string | null;
  type?: 'function' | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}

export interface ChatChunk {
  id?: string;
  object?: 'chat.completion.chunk';
  created?: number;
  model?: string;
  choices: Array<{
    index: number;
    delta: {
      role?: string | null;
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: ChatToolCallDelta[] | null;
      refusal?: string | null;
    };
    finish_reason: string | null;
  }>;
  usage?: ChatUsage | null;
}
