// The response cache key: a hash of everything that decides the answer. Pure.
import { createHash } from 'node:crypto';
import { cacheKeyFields, type CreateRequest } from '../protocol/request-fields.ts';
import type { InputItem } from '../protocol/types.ts';

export interface CacheKeyParts {
  /** The API route the answer belongs to (the spec's `openai_responses`). */
  route: string;
  /** The caller's principal; null when the cache is shared by every tenant. */
  principal: string | null;
  request: CreateRequest;
  /** The whole resolved input: the chain's history items, then this turn's input. */
  input: readonly InputItem[];
}

export function cacheKey(parts: CacheKeyParts): string {
  const doc = {
    route: parts.route,
    principal: parts.principal,
    // Which fields count is the request-field table's `cacheKey` (input: the resolved input below).
    settings: cacheKeyFields(parts.request),
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
