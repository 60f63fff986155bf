// The response cache key: a hash of everything that decides the answer. Pure.
import { createHash } from 'node:crypto';
import { cacheKeyFields, type CreateRequest } from '../protocol/request-fields.ts';
import type { InputItem } from '../protocol/types.ts';

export interface CacheKeyParts {
  /** The API route the answer belongs to (the spec's `openai_responses`). */
  route: string;
  /** The caller's principal; null when the cache is shared by every tenant. */
  principal: string | null;
  /** Its settings, previous_response_id and conversation among them (the history's anchor). */
  request: CreateRequest;
  /** This turn's input items (item references as they were sent). */
  input: readonly InputItem[];
}

/**
 * The key is known before the history is read (so the lookup runs beside that read); the entry
 * keeps the fingerprint of the history it was made from, and a lookup is a hit only when the
 * history read now has the same one (an ancestor deleted, a conversation grown: a miss).
 */
export function historyFingerprint(history: readonly InputItem[]): string {
  return createHash('sha256').update(canonicalJson(history.map(withoutOurIds))).digest('hex');
}

/** Item ids and statuses are ours, random per request: the same content must match. A reference's id is its content. */
const withoutOurIds = (item: InputItem) => {
  if (item.type === 'item_reference') return item;
  const { id: _id, status: _status, ...rest } = item;
  return rest;
};

export function cacheKey(parts: CacheKeyParts): string {
  const doc = {
    route: parts.route,
    principal: parts.principal,
    // Which fields count is the request-field table's `cacheKey` (input: the resolved input below).
    settings: cacheKeyFields(parts.request),
    input: parts.input.map(withoutOurIds),
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
