import * as z from 'zod/mini';
import { badRequest, type ApiError } from './errors.ts';
import './zod-english.ts';

// Request bodies: JSON parsing, and zod validation with OpenAI's error for the first bad parameter
// (request-fields.ts has the create request's fields, input-schema.ts the input items and tools).

/** OpenAI's metadata limits. */
const METADATA_MAX_PAIRS = 16;

/**
 * OpenAI's metadata (responses, conversations): at most 16 pairs, keys of up to 64 characters,
 * string values of up to 512. Every key is just a name: the object is kept as parsed, so
 * `constructor`, `toString` or `__proto__` come back as sent (zod's record rebuilds the object by
 * assignment, which drops a `__proto__` key without a word).
 */
export const metadata = z.unknown().check(z.superRefine((m, ctx) => {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) {
    ctx.addIssue({ code: 'invalid_type', expected: 'record', input: m, message: 'an object expected' });
    return;
  }
  const pairs = Object.entries(m);
  if (pairs.length > METADATA_MAX_PAIRS) ctx.addIssue({ code: 'custom', message: `at most ${METADATA_MAX_PAIRS} key-value pairs` });
  for (const [key, value] of pairs) {
    if (key.length > 64) ctx.addIssue({ code: 'custom', path: [key], message: 'keys are at most 64 characters long' });
    if (typeof value !== 'string') ctx.addIssue({ code: 'invalid_type', expected: 'string', input: value, path: [key], message: 'a string expected' });
    else if (value.length > 512) ctx.addIssue({ code: 'custom', path: [key], message: 'values are at most 512 characters long' });
  }
})) as unknown as z.ZodMiniType<Record<string, string>>;

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
  // Whatever the schema said about it, a parameter that is not there is missing.
  if (value === undefined && issue.path.length > 0) {
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
const MAX_BODY_DEPTH = 128;

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
export function parseBody<T>(schema: z.ZodMiniType<T>, body: unknown): T {
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

/** The query of OpenAI's cursor lists (input items, conversation items). */
export interface ListQuery {
  limit?: string | null;
  order?: string | null;
  after?: string | null;
  before?: string | null;
}

/** `limit` 1-100 (default 20) and `order` asc or desc (default desc, newest first), or a 400 naming the bad one. */
export function listParams(q: ListQuery): { limit: number; order: 'asc' | 'desc' } {
  const limit = q.limit == null ? 20 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw badRequest(`Invalid 'limit': integer between 1 and 100 expected, got '${q.limit}'.`, 'limit', 'invalid_value');
  }
  const order = q.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw badRequest(`Invalid 'order': expected 'asc' or 'desc', got '${order}'.`, 'order', 'invalid_value');
  return { limit, order };
}
