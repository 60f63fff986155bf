// The one table of POST /v1/responses request fields. Each row says how the field is validated,
// echoed on the Response object, given to a Chat Completions backend, given to a native Responses
// backend, and whether it is part of the response cache key. The zod schema and the
// `CreateRequest` type are derived from it, so a field has no other home; translate/request.ts
// must map exactly the rows marked `chat: 'mapped'` (a compile error otherwise).
//
// Fields not in the table are let through (newer SDKs send fields we do not know yet): a native
// upstream gets them, a Chat backend does not (logged), and they are part of the cache key.
import * as z from 'zod/mini';
import { badRequest } from './errors.ts';
import type { InputItem, JsonObject } from './types.ts';
import { inputItem, tool } from './input-schema.ts';
import { textShape, toolsShape } from './response-shape.ts';
import { metadata, parseBody } from './validate.ts';

/** What a Chat Completions backend gets: handled by the gateway itself, mapped, or dropped (with a reason for the log). */
export type ChatRule = 'gateway' | 'mapped' | { drop: string };

interface Rule<T> {
  /** The Response field for this request value (undefined when absent), or false: not echoed. */
  echo: false | ((value: T | undefined) => unknown);
  chat: ChatRule;
  /** Sent to a native (Responses) upstream as the client sent it; false: the gateway decides it. */
  native: boolean;
  /** Part of the response cache key (false: it never changes the answer, or the key has it another way). */
  cacheKey: boolean;
  /** Keys of a mapped object field that a Chat backend does not get, and why (for the log). */
  chatDrops?: Record<string, string>;
}

const field = <S extends z.ZodMiniType, C extends ChatRule>(schema: S, rule: Rule<z.output<S>> & { chat: C }) => ({ schema, ...rule });

const or = <T>(fallback: T) => <V>(value: V | undefined | null): V | T => value ?? fallback;
const nullable = or(null);
const number = (min: number, max: number) => z.nullish(z.number().check(z.minimum(min), z.maximum(max)));
const nonEmpty = z.string().check(z.minLength(1));
const item = inputItem as z.ZodMiniType<InputItem>;

const DROP_TRUNCATION = 'the gateway sends the whole history; a Chat backend cuts nothing';

export const FIELDS = {
  model: field(nonEmpty, { echo: false, chat: 'gateway', native: false, cacheKey: true }),
  input: field(z.union([z.string(), z.array(item)]), { echo: false, chat: 'gateway', native: false, cacheKey: false }),
  instructions: field(z.nullish(z.union([z.string(), z.array(item)])), { echo: nullable, chat: 'gateway', native: true, cacheKey: true }),
  previous_response_id: field(z.nullish(nonEmpty), { echo: nullable, chat: 'gateway', native: false, cacheKey: true }),
  conversation: field(z.nullish(z.union([nonEmpty, z.looseObject({ id: nonEmpty })])), {
    echo: (c) => (c == null ? null : { id: typeof c === 'string' ? c : c.id }), chat: 'gateway', native: false, cacheKey: true,
  }),
  stream: field(z.nullish(z.boolean()), { echo: false, chat: 'gateway', native: false, cacheKey: false }),
  stream_options: field(z.nullish(z.looseObject({})), { echo: false, chat: 'gateway', native: true, cacheKey: false }),
  store: field(z.nullish(z.boolean()), { echo: or(true), chat: 'gateway', native: false, cacheKey: false }),
  background: field(z.nullish(z.boolean()), { echo: or(false), chat: 'gateway', native: false, cacheKey: false }),
  metadata: field(z.nullish(metadata), { echo: or({}), chat: 'gateway', native: true, cacheKey: false }),
  tools: field(z.nullish(z.array(tool as z.ZodMiniType<JsonObject>)), {
    echo: toolsShape, chat: 'mapped', native: true, cacheKey: true,
  }),
  tool_choice: field(z.nullish(z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string() })])), {
    echo: or('auto'), chat: 'mapped', native: true, cacheKey: true,
  }),
  parallel_tool_calls: field(z.nullish(z.boolean()), { echo: or(true), chat: 'mapped', native: true, cacheKey: true }),
  max_tool_calls: field(z.nullish(z.number().check(z.int(), z.minimum(1))), {
    echo: nullable, chat: { drop: 'Chat Completions has no limit on tool calls' }, native: true, cacheKey: true,
  }),
  text: field(z.nullish(z.looseObject({
    format: z.nullish(z.looseObject({ type: z.enum(['text', 'json_schema', 'json_object']) })),
    verbosity: z.nullish(z.enum(['low', 'medium', 'high'])),
  })), {
    // verbosity goes as Chat's `verbosity` (OpenAI's Chat API reads it; Ollama, vLLM and llama.cpp ignore it).
    echo: textShape, chat: 'mapped', native: true, cacheKey: true,
  }),
  reasoning: field(z.nullish(z.looseObject({ effort: z.nullish(z.string()), summary: z.nullish(z.string()) })), {
    echo: (r) => ({ effort: r?.effort ?? null, summary: r?.summary ?? null }), chat: 'mapped', native: true, cacheKey: true,
    chatDrops: {
      summary: 'Chat backends stream their reasoning as it is, with no summaries (it comes back as reasoning_text)',
      context: 'Chat Completions has no reasoning context setting',
    },
  }),
  temperature: field(number(0, 2), { echo: or(1), chat: 'mapped', native: true, cacheKey: true }),
  top_p: field(number(0, 1), { echo: or(1), chat: 'mapped', native: true, cacheKey: true }),
  presence_penalty: field(number(-2, 2), { echo: or(0), chat: 'mapped', native: true, cacheKey: true }),
  frequency_penalty: field(number(-2, 2), { echo: or(0), chat: 'mapped', native: true, cacheKey: true }),
  max_output_tokens: field(z.nullish(z.number().check(z.int(), z.minimum(1))), { echo: nullable, chat: 'mapped', native: true, cacheKey: true }),
  top_logprobs: field(z.nullish(z.number().check(z.int(), z.minimum(0), z.maximum(20))), {
    echo: or(0), chat: { drop: 'log probabilities are not carried back from Chat backends' }, native: true, cacheKey: true,
  }),
  truncation: field(z.nullish(z.enum(['auto', 'disabled'])), { echo: or('disabled'), chat: { drop: DROP_TRUNCATION }, native: true, cacheKey: true }),
  // Chat backends: the gateway itself answers `reasoning.encrypted_content` (it seals the reasoning); nothing else applies.
  include: field(z.nullish(z.array(z.string())), { echo: false, chat: 'gateway', native: true, cacheKey: true }),
  user: field(z.nullish(z.string()), { echo: nullable, chat: 'mapped', native: true, cacheKey: false }),
  safety_identifier: field(z.nullish(z.string()), { echo: nullable, chat: 'mapped', native: true, cacheKey: false }),
  prompt_cache_key: field(z.nullish(z.string()), {
    echo: nullable, chat: { drop: 'Chat Completions has no prompt cache key' }, native: true, cacheKey: false,
  }),
  service_tier: field(z.nullish(z.string()), {
    echo: or('default'), chat: { drop: 'Chat backends have no service tiers' }, native: true, cacheKey: false,
  }),
  /** Our extension (the Python router's): per-request options such as `{cache: true}`. */
  nomyo: field(z.optional(z.looseObject({ cache: z.optional(z.boolean()) })), { echo: false, chat: 'gateway', native: false, cacheKey: false }),
};

type Fields = typeof FIELDS;
export type FieldName = keyof Fields;
/** The fields a Chat request builder must map (translate/request.ts). */
export type ChatMappedField = { [K in FieldName]: Fields[K]['chat'] extends 'mapped' ? K : never }[FieldName];

const shape = Object.fromEntries(Object.entries(FIELDS).map(([name, row]) => [name, row.schema])) as { [K in FieldName]: Fields[K]['schema'] };
const createRequestSchema = z.looseObject(shape);

/** The validated body of POST /v1/responses. */
export type CreateRequest = z.output<typeof createRequestSchema>;

/** Validates a parsed JSON body; throws an ApiError (400) naming the first bad parameter. */
export function parseCreateRequest(body: unknown): CreateRequest {
  const req = parseBody(createRequestSchema, body);
  if (req.background && req.store === false) {
    throw badRequest('Background mode requires store=true.', 'background', 'invalid_value');
  }
  checkChaining(req);
  return req;
}

/** A request continues a previous response or a conversation, not both (400 otherwise, as OpenAI's). */
export function checkChaining(req: { previous_response_id?: string | null; conversation?: unknown }): void {
  if (req.conversation != null && req.previous_response_id != null) {
    throw badRequest("Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.", 'conversation', 'mutually_exclusive_parameters');
  }
}

const rows = Object.entries(FIELDS) as Array<[FieldName, Fields[FieldName]]>;
const isKnown = (name: string): name is FieldName => Object.hasOwn(FIELDS, name);

/** The request's settings as the Response object echoes them (null or OpenAI's default where unset). */
export function echoedFields(req: Partial<CreateRequest>, out: JsonObject = {}): JsonObject {
  for (const [name, echo] of ECHOED) out[name] = echo(req[name]);
  return out;
}
/** The rows a Response echoes, worked out once (echoedFields runs for every response). */
const ECHOED = rows.flatMap(([name, row]) => (row.echo ? [[name, row.echo as (v: unknown) => unknown] as const] : []));
/** The names of the fields a Response echoes, in table order. */
export const ECHOED_NAMES: readonly string[] = ECHOED.map(([name]) => name);

/** The settings a Response echoes, as a request again (for records stored without their request). */
export function requestEchoedBy(response: JsonObject & { model: string }): RequestSettings {
  const req: JsonObject = { model: response.model };
  for (const [name, row] of rows) if (row.echo && response[name] != null) req[name] = response[name];
  return req as RequestSettings;
}

/** The request as a native upstream gets it: every field it sent but those the gateway decides. */
export function nativeFields(req: CreateRequest): JsonObject {
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(req)) if (!isKnown(name) || FIELDS[name].native) out[name] = value;
  return out;
}

/** The settings that decide the answer (unknown fields too: a field we do not know makes a miss, never a wrong hit). */
export function cacheKeyFields(req: CreateRequest): JsonObject {
  const out: JsonObject = {};
  // null is the API's "default", the same as leaving the field out.
  for (const [name, value] of Object.entries(req)) if ((!isKnown(name) || FIELDS[name].cacheKey) && value != null) out[name] = value;
  return out;
}

/** Set fields a Chat backend does not get, and why: for the log. Unknown fields included. */
export function droppedForChat(req: CreateRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req)) {
    if (value == null) continue;
    const rule: ChatRule = isKnown(name) ? FIELDS[name].chat : { drop: 'not a field this gateway knows' };
    if (typeof rule === 'object') out[name] = rule.drop;
    const drops: Record<string, string> | undefined = isKnown(name) ? (FIELDS[name] as { chatDrops?: Record<string, string> }).chatDrops : undefined;
    for (const [key, why] of Object.entries(drops ?? {})) if ((value as JsonObject)[key] != null) out[`${name}.${key}`] = why;
  }
  return out;
}

/** A request without its input (a stored background request: its input is stored apart). */
export type RequestSettings = { [K in keyof CreateRequest as K extends 'input' ? never : K]: CreateRequest[K] };
