import * as z from 'zod';
import { badRequest, type ApiError } from './errors.ts';
import type { CreateRequest } from './types.ts';

// The body of POST /v1/responses. Known fields are checked for type; unknown ones are let
// through (newer SDKs send fields we do not know yet, and the native path forwards them).

const part = z.looseObject({ type: z.string() });
const messageContent = z.union([z.string(), z.array(part)]);
export const inputItem = z.looseObject({
  type: z.string().optional(),
  id: z.string().max(256).optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']).optional(),
  content: messageContent.optional(),
}).refine((item) => item.type !== undefined || item.role !== undefined, {
  message: "each input item needs a 'type' or a 'role'",
});

const functionTool = z.looseObject({ type: z.string(), name: z.string().optional() });
const nullableNumber = (min: number, max: number) => z.number().min(min).max(max).nullable().optional();

const createRequest = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(inputItem)]),
  instructions: z.union([z.string(), z.array(inputItem)]).nullable().optional(),
  previous_response_id: z.string().min(1).nullable().optional(),
  conversation: z.union([z.string().min(1), z.looseObject({ id: z.string().min(1) })]).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  background: z.boolean().nullable().optional(),
  tools: z.array(functionTool).nullable().optional(),
  tool_choice: z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string() })]).nullable().optional(),
  text: z.looseObject({ format: z.looseObject({ type: z.enum(['text', 'json_schema', 'json_object']) }).optional() }).nullable().optional(),
  reasoning: z.looseObject({ effort: z.string().nullable().optional(), summary: z.string().nullable().optional() }).nullable().optional(),
  temperature: nullableNumber(0, 2),
  top_p: nullableNumber(0, 1),
  max_output_tokens: z.number().int().min(1).nullable().optional(),
  max_tool_calls: z.number().int().min(1).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
  user: z.string().nullable().optional(),
  safety_identifier: z.string().nullable().optional(),
  prompt_cache_key: z.string().nullable().optional(),
  service_tier: z.string().nullable().optional(),
  truncation: z.enum(['auto', 'disabled']).nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  include: z.array(z.string()).nullable().optional(),
  stream_options: z.looseObject({}).nullable().optional(),
  nomyo: z.looseObject({ cache: z.boolean().optional() }).optional(),
});

const typeName = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;

/** OpenAI writes paths as `input[0].content[1].text`. */
const paramOf = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');

const valueAt = (body: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), body);

function toApiError(body: unknown, issue: z.core.$ZodIssue): ApiError {
  const param = paramOf(issue.path);
  const value = valueAt(body, issue.path);
  if (value === undefined && issue.code === 'invalid_type') {
    return badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  }
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
    return badRequest(`Invalid type for '${param}': got ${typeName(value)}.`, param, 'invalid_type');
  }
  return badRequest(`Invalid value for '${param}': ${issue.message}.`, param, 'invalid_value');
}

/**
 * Deepest nesting of arrays and objects accepted in a body (the body itself is level 1). JSON.parse
 * takes any depth, but JSON.stringify and structuredClone recurse and overflow the stack at a few
 * thousand levels: past this limit a body could only fail later, as a 500.
 */
export const MAX_BODY_DEPTH = 128;

/** The top-level parameter whose value nests deeper than MAX_BODY_DEPTH, if any. Iterative. */
function tooDeep(body: object): string | undefined {
  for (const [key, value] of Object.entries(body)) {
    const stack: Array<{ v: object; depth: number }> = [];
    if (value !== null && typeof value === 'object') stack.push({ v: value, depth: 2 });
    for (let top = stack.pop(); top; top = stack.pop()) {
      if (top.depth > MAX_BODY_DEPTH) return key;
      for (const child of Array.isArray(top.v) ? top.v : Object.values(top.v)) {
        if (child !== null && typeof child === 'object') stack.push({ v: child, depth: top.depth + 1 });
      }
    }
  }
  return undefined;
}

/** Validates a parsed JSON body against a schema; throws an ApiError (400) naming the first bad parameter. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object.', null, 'invalid_json');
  }
  const deep = tooDeep(body);
  if (deep !== undefined) {
    throw badRequest(`Invalid value for '${deep}': nested deeper than ${MAX_BODY_DEPTH} levels of arrays and objects.`, deep, 'invalid_value');
  }
  const result = schema.safeParse(body);
  if (!result.success) throw toApiError(body, result.error.issues[0]!);
  return result.data;
}

/** Validates a parsed JSON body; throws an ApiError (400) naming the first bad parameter. */
export function parseCreateRequest(body: unknown): CreateRequest {
  const req = parseBody(createRequest, body) as CreateRequest;
  if (req.background && req.store === false) {
    throw badRequest('Background mode requires store=true.', 'background', 'invalid_value');
  }
  if (req.conversation != null && req.previous_response_id != null) {
    throw badRequest("Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.", 'conversation', 'mutually_exclusive_parameters');
  }
  return req;
}

/** JSON.parse with OpenAI's error for bodies that are not JSON. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      null,
      'invalid_json',
    );
  }
}
