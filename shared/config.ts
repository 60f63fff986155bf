import * as z from 'zod';
import { parse as parseYaml } from 'yaml';
import type { Endpoint } from './ports.ts';

// The config file: the Python router's keys as they are, plus ours (documented in
// config.example.yaml). Parsing is pure; reading the file is the caller's job.

const endpointEntry = z.union([
  z.string().min(1),
  z.object({ url: z.string().min(1), type: z.enum(['ollama', 'chat', 'openai', 'responses']).optional() }),
]);

const fileSchema = z.object({
  endpoints: z.array(endpointEntry).default([]),
  api_keys: z.record(z.string(), z.string()).nullable().default({}),
  max_concurrent_connections: z.number().int().min(0).default(1), // 0: no limit, no leases
  router_api_key: z.string().nullable().optional(),
  router_api_keys: z.record(z.string(), z.string()).nullable().optional(),
  cache_enabled: z.boolean().default(false),
  cache_ttl: z.number().int().min(1).nullable().default(3600),
  /** One cache for every principal (otherwise each tenant has its own entries). */
  cache_shared: z.boolean().default(false),
  /** Days a stored response is kept (DynamoDB TTL); null keeps them forever. */
  response_ttl_days: z.number().min(0).nullable().default(30),
  /** Milliseconds to wait for an upstream's first byte (and between bytes of a stream). */
  upstream_timeout_ms: z.number().int().min(1).default(300_000),
  /** How long a model list fetched from an endpoint is trusted. */
  model_list_ttl_ms: z.number().int().min(0).default(30_000),
  /** Chat backends: replay reasoning items from history as `reasoning_content`, or drop them. */
  reasoning_history: z.enum(['replay', 'drop']).default('replay'),
  /** Background workers and foreground streams write a heartbeat this often. */
  heartbeat_ms: z.number().int().min(10).default(30_000),
  /** Background workers append streamed events to the log at most this often (first output at once). */
  flush_ms: z.number().int().min(0).default(500),
  /** Live background streams poll the event log this often. */
  poll_ms: z.number().int().min(10).default(200),
  /** A queued / in_progress response with no heartbeat for this long is marked failed by the sweeper. */
  orphan_after_ms: z.number().int().min(1).default(120_000),
  /** How often the local server runs the sweeper (AWS: the EventBridge schedule). */
  sweep_interval_ms: z.number().int().min(10).default(30_000),
  /** How long a request waits for a free concurrency slot before it is refused with 429. */
  slot_wait_ms: z.number().int().min(0).default(10_000),
  /** The Retry-After (seconds) of that 429. */
  retry_after_seconds: z.number().int().min(0).default(2),
  /** A slot lease not renewed for this long is free again (its holder died); renewed every third of it. */
  slot_lease_ms: z.number().int().min(100).default(30_000),
  /** Upstream attempts per request (first + retries) for failures before the first byte. */
  max_attempts: z.number().int().min(1).default(3),
  /** Delay before the first retry; doubled for each further one, with jitter. */
  retry_backoff_ms: z.number().int().min(0).default(200),
});

export interface Config {
  endpoints: Endpoint[];
  maxConcurrentConnections: number;
  /** Bearer key -> principal. Empty: requests are unauthenticated (principal `default`). */
  clientKeys: Map<string, string>;
  cacheEnabled: boolean;
  cacheTtlSeconds: number | null;
  /** Cache entries are shared across principals (the key leaves the principal out). */
  cacheShared: boolean;
  responseTtlSeconds: number | null;
  upstreamTimeoutMs: number;
  modelListTtlMs: number;
  reasoningHistory: 'replay' | 'drop';
  heartbeatMs: number;
  flushMs: number;
  pollMs: number;
  /** How long a reader waits for committed events that have not landed before closing from the record. */
  logGraceMs: number;
  orphanAfterMs: number;
  sweepIntervalMs: number;
  slotWaitMs: number;
  retryAfterSeconds: number;
  slotLeaseMs: number;
  maxAttempts: number;
  retryBackoffMs: number;
}

/** `${NAME}` -> the environment's value (empty when unset), in every string of the document. */
function expandEnv(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '');
  if (Array.isArray(value)) return value.map((v) => expandEnv(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env)]));
  }
  return value;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * The Python router's rule: a URL containing `/v1` that is not an Ollama port, and whose base
 * without `/v1` is not also listed, is an OpenAI-style (native Responses) endpoint.
 */
export function isNativeEndpoint(url: string, allUrls: readonly string[]): boolean {
  const u = trimSlash(url);
  if (!u.includes('/v1') || u.includes(':11434')) return false;
  const base = u.replace(/\/v1$/, '');
  return !allUrls.some((other) => trimSlash(other) === base);
}

export function parseConfig(yamlText: string, env: Record<string, string | undefined> = process.env): Config {
  const raw = expandEnv(parseYaml(yamlText) ?? {}, env);
  const result = fileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const c = result.data;
  const urls = c.endpoints.map((e) => (typeof e === 'string' ? e : e.url));
  const keys = c.api_keys ?? {};
  const endpoints: Endpoint[] = c.endpoints.map((e) => {
    const url = trimSlash(typeof e === 'string' ? e : e.url);
    const type = typeof e === 'string' ? undefined : e.type;
    const kind = type ? (type === 'openai' || type === 'responses' ? 'responses' : 'chat') : isNativeEndpoint(url, urls) ? 'responses' : 'chat';
    const apiKey = keys[url] ?? keys[`${url}/`] ?? undefined;
    return apiKey ? { url, kind, apiKey } : { url, kind };
  });
  const clientKeys = new Map<string, string>();
  if (c.router_api_key) clientKeys.set(c.router_api_key, 'default');
  for (const [principal, key] of Object.entries(c.router_api_keys ?? {})) if (key) clientKeys.set(key, principal);
  return {
    endpoints,
    maxConcurrentConnections: c.max_concurrent_connections,
    clientKeys,
    cacheEnabled: c.cache_enabled,
    cacheTtlSeconds: c.cache_ttl,
    cacheShared: c.cache_shared,
    responseTtlSeconds: c.response_ttl_days === null ? null : Math.round(c.response_ttl_days * 86_400),
    upstreamTimeoutMs: c.upstream_timeout_ms,
    modelListTtlMs: c.model_list_ttl_ms,
    reasoningHistory: c.reasoning_history,
    heartbeatMs: c.heartbeat_ms,
    flushMs: c.flush_ms,
    pollMs: c.poll_ms,
    logGraceMs: 5_000,
    orphanAfterMs: c.orphan_after_ms,
    sweepIntervalMs: c.sweep_interval_ms,
    slotWaitMs: c.slot_wait_ms,
    retryAfterSeconds: c.retry_after_seconds,
    slotLeaseMs: c.slot_lease_ms,
    maxAttempts: c.max_attempts,
    retryBackoffMs: c.retry_backoff_ms,
  };
}
