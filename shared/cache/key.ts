// The response cache key: a hash of everything that decides the answer. Pure.
import { createHash } from 'node:crypto';
import type { CreateRequest, InputItem } from '../protocol/types.ts';

export interface CacheKeyParts {
  /** The API route the answer belongs to (the spec's `openai_responses`). */
  route: string;
  /** The caller's principal; null when the cache is shared by every tenant. */
  principal: string | null;
  request: CreateRequest;
  /** The whole resolved input: the chain's history items, then this turn's input. */
  input: readonly InputItem[];
}

/**
 * Request fields that never change the answer. Everything else is in the key: unknown fields
 * too (the native path forwards them), so a field we do not know makes a miss, never a wrong hit.
 * `input` and `previous_response_id` are replaced by the resolved input itself.
 */
const NOT_IN_KEY = new Set([
  'input', 'previous_response_id', 'stream', 'stream_options', 'store', 'background', 'nomyo',
  'metadata', 'user', 'safety_identifier', 'prompt_cache_key', 'service_tier',
]);

export function cacheKey(parts: CacheKeyParts): string {
  const settings: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parts.request)) {
    // null is the API's "default", the same as leaving the field out.
    if (!NOT_IN_KEY.has(name) && value !== null && value !== undefined) settings[name] = value;
  }
  const doc = {
    route: parts.route,
    principal: parts.principal,
    settings,
    // Item ids and statuses are ours, random per request: the same conversation must match.
    input: parts.input.map(({ id: _id, status: _status, ...rest }) => rest),
  };
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

/** JSON with object keys sorted at every level, so key order never changes the hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
