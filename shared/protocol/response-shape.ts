// The Response object's shape as the Open Responses specification requires it (its
// ResponseResource: every field present, the nullable ones as null) and as OpenAI normalizes
// what it echoes: function tools with `description`, `parameters` and `strict`, `text` with its
// `format`, `reasoning` with `effort` and `summary`. Applied to our echo and to whatever a native
// upstream sent.
import { isObj, type JsonObject, type ResponseObject } from './types.ts';

/** Object schemas nest at most this deep before we stop looking (and call the schema not strict). */
const MAX_SCHEMA_DEPTH = 32;

/**
 * Whether OpenAI's strict mode can take this JSON schema: every object closes its properties
 * (`additionalProperties: false`) and requires all of them, all the way down.
 */
export function strictCompatible(schema: unknown, depth = 0): boolean {
  if (!isObj(schema)) return true;
  if (depth > MAX_SCHEMA_DEPTH) return false;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('object') || isObj(schema.properties)) {
    if (schema.additionalProperties !== false) return false;
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    if (isObj(schema.properties) && !Object.keys(schema.properties).every((k) => required.has(k))) return false;
  }
  const children: unknown[] = [schema.items, schema.not];
  for (const key of ['properties', '$defs', 'definitions']) if (isObj(schema[key])) children.push(...Object.values(schema[key]));
  for (const key of ['anyOf', 'allOf', 'oneOf', 'prefixItems']) if (Array.isArray(schema[key])) children.push(...schema[key]);
  return children.every((child) => strictCompatible(child, depth + 1));
}

/**
 * A function tool as a Response shows it. `strict` as OpenAI decides an omitted one: strict
 * when the schema allows it (a function without parameters too), else not.
 */
export function functionToolShape(t: JsonObject): JsonObject {
  const parameters = isObj(t.parameters) ? t.parameters : null;
  const strict = typeof t.strict === 'boolean' ? t.strict : strictCompatible(parameters);
  return { ...t, description: typeof t.description === 'string' ? t.description : null, parameters, strict };
}

/** The request's tools as the Response echoes them (hosted and other tools as sent). */
export function toolsShape(tools: unknown): unknown[] {
  if (!Array.isArray(tools)) return [];
  return tools.map((t) => (isObj(t) && t.type === 'function' ? functionToolShape(t) : t));
}

/** `text` with its `format` (plain text unless asked) and `verbosity` (OpenAI's default: medium). */
export function textShape(text: unknown): JsonObject {
  const t = isObj(text) ? text : {};
  return { ...t, format: isObj(t.format) ? t.format : { type: 'text' }, verbosity: t.verbosity ?? 'medium' };
}

/** `reasoning` with both its keys (null when unset). */
export function reasoningShape(reasoning: unknown): JsonObject {
  const r = isObj(reasoning) ? reasoning : {};
  return { ...r, effort: r.effort ?? null, summary: r.summary ?? null };
}

/** Required fields that may be null: present as null when missing. */
const NULLABLE = [
  'completed_at', 'incomplete_details', 'previous_response_id', 'instructions', 'error', 'usage',
  'max_output_tokens', 'max_tool_calls', 'safety_identifier', 'prompt_cache_key',
] as const;
/** Required fields that may not be null: taken from our own echo when missing or null. */
const NOT_NULL = [
  'tool_choice', 'truncation', 'parallel_tool_calls', 'top_p', 'presence_penalty', 'frequency_penalty',
  'top_logprobs', 'temperature', 'store', 'background', 'service_tier', 'metadata',
] as const;

/**
 * Every field the Open Responses response schema requires, whatever `res` came with (a native
 * upstream may leave some out or send null): missing ones from `base` (our echo of the request).
 */
export function conformResponse(res: ResponseObject, base: ResponseObject): ResponseObject {
  const out: ResponseObject = { ...res };
  for (const key of NULLABLE) if (out[key] === undefined) (out as JsonObject)[key] = null;
  for (const key of NOT_NULL) if (out[key] == null) (out as JsonObject)[key] = base[key];
  out.tools = toolsShape(out.tools ?? base.tools);
  out.text = textShape(out.text ?? base.text);
  out.reasoning = reasoningShape(out.reasoning ?? base.reasoning);
  return out;
}
