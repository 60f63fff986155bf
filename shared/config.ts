import * as z from 'zod/mini';
import type { Endpoint } from './ports.ts';
import { log } from './log.ts';
import { checkTimings, ConfigError, secretsOf } from './config-rules.ts';
import { MIN_KEY_CHARS } from './protocol/sealed.ts';
import './protocol/zod-english.ts';

// The config: NOMYO Router's keys as they are (github.com/nomyo-ai/nomyo-router, its config.yaml),
// plus ours (documented in config.example.yaml), from the parsed document (YAML locally and at
// synth: config-file.ts; JSON on Lambda, so its bundle carries no YAML parser). It fails closed: a `${NAME}` whose variable is unset, an empty or shared
// client key, or an unknown key that looks like it controls access stops the start, naming it.

export { ConfigError };

/** A URL, or `{url, type, files}` (a URL alone is read as `{url}`, so an error names the key inside). */
const endpointEntry = z.pipe(z.transform((v) => (typeof v === 'string' ? { url: v } : v)), z.object({
  url: z.string().check(z.minLength(1)),
  type: z.optional(z.enum(['ollama', 'chat', 'openai', 'responses'])),
  /** Chat endpoints: `input_file` as Chat `file` parts, or as text in the message (default). */
  files: z.optional(z.enum(['parts', 'text'])),
}));

/** NOMYO Router's spellings of its one client key (its config.yaml writes `nomyo-router-api-key`). */
const ROUTER_KEY_ALIASES = ['router_api_key', 'nomyo-router-api-key', 'nomyo_router_api_key', 'nomyo-router_api_key', 'nomyo_router-api_key', 'NOMYO-ROUTER_API_KEY', 'NOMYO_ROUTER_API_KEY'];

/** The local server's own limits (Lambda has its own). */
export interface ServerLimits {
  maxConnections: number;
  headerTimeoutMs: number;
  bodyTimeoutMs: number;
  shutdownGraceMs: number;
}

export const SERVER_DEFAULTS: ServerLimits = { maxConnections: 1024, headerTimeoutMs: 10_000, bodyTimeoutMs: 30_000, shutdownGraceMs: 10_000 };

/** An integer of at least `min`; `fallback` when the key is absent. */
const int = (min: number, fallback: number) => z._default(z.number().check(z.int(), z.minimum(min)), fallback);

const fileSchema = z.object({
  endpoints: z._default(z.array(endpointEntry), []),
  /** NOMYO Router: llama.cpp llama-server endpoints (OpenAI-compatible, /v1 in the URL): served as Chat endpoints. */
  llama_server_endpoints: z._default(z.nullable(z.array(z.string().check(z.minLength(1)))), []),
  api_keys: z._default(z.nullable(z.record(z.string(), z.string())), {}),
  max_concurrent_connections: int(0, 1), // 0: no limit, no leases
  router_api_key: z.nullish(z.string()),
  router_api_keys: z.nullish(z.record(z.string(), z.string())),
  cache_enabled: z._default(z.boolean(), false),
  cache_ttl: z._default(z.nullable(z.number().check(z.int(), z.minimum(1))), 3600),
  /** NOMYO Router: cosine-similarity threshold; only 1.0 (exact matching) exists here. */
  cache_similarity: z._default(z.number().check(z.minimum(0), z.maximum(1)), 1),
  cache_history_weight: z.nullish(z.number().check(z.minimum(0), z.maximum(1))),
  /** NOMYO Router's storage keys: DynamoDB holds the cache and the counts here instead. */
  cache_backend: z.nullish(z.string()),
  cache_db_path: z.nullish(z.string()),
  cache_redis_url: z.nullish(z.string()),
  db_path: z.nullish(z.string()),
  /** One cache for every principal (otherwise each tenant has its own entries). */
  cache_shared: z._default(z.boolean(), false),
  /** Days a stored response is kept (DynamoDB TTL); null keeps them forever. */
  response_ttl_days: z._default(z.nullable(z.number().check(z.minimum(0))), 30),
  /** Milliseconds to wait for an upstream's first byte (and between bytes of a stream). */
  upstream_timeout_ms: int(1, 300_000),
  /** How long a model list fetched from an endpoint is trusted. */
  model_list_ttl_ms: int(0, 30_000),
  /** Chat backends: replay reasoning items from history as `reasoning_content`, or drop them. */
  reasoning_history: z._default(z.enum(['replay', 'drop']), 'replay'),
  /** Chat backends: keys sealing `encrypted_content` (reasoning, compaction); the first seals, all open. */
  reasoning_keys: z.nullish(z.array(z.string())),
  /** Chat backends: hosted tools (web_search, ...) left out of what the model sees, or the request refused. */
  unsupported_tools: z._default(z.enum(['drop', 'reject']), 'drop'),
  /** Background workers and foreground streams write a heartbeat this often. */
  heartbeat_ms: int(10, 30_000),
  /** Background workers append streamed events to the log at most this often (first output at once). */
  flush_ms: int(0, 500),
  /** Live background streams poll the event log this often. */
  poll_ms: int(10, 200),
  /** A queued / in_progress response with no heartbeat for this long is marked failed by the sweeper. */
  orphan_after_ms: int(1, 120_000),
  /** How often the local server runs the sweeper (AWS: the EventBridge schedule). */
  sweep_interval_ms: int(10, 30_000),
  /** How long a request waits for a free concurrency slot before it is refused with 429. */
  slot_wait_ms: int(0, 10_000),
  /** The Retry-After (seconds) of that 429. */
  retry_after_seconds: int(0, 2),
  /** A slot lease not renewed for this long is free again (its holder died); renewed every third of it. */
  // Its lower bound is checkTimings' (config-rules.ts), which says why.
  slot_lease_ms: z._default(z.number().check(z.int()), 30_000),
  /** Upstream attempts per request (first + retries) for failures before the first byte. */
  max_attempts: int(1, 3),
  /** Delay before the first retry; doubled for each further one, with jitter. */
  retry_backoff_ms: int(0, 200),
  /** The lowest level logged (POWERTOOLS_LOG_LEVEL, when set, wins). */
  log_level: z._default(z.enum(['debug', 'info', 'warn', 'error']), 'info'),
  /** Bytes of an upstream's non-stream answer read at most; a longer one is a 502. */
  max_upstream_response_bytes: int(1024, 64 * 1024 * 1024),
  /** Characters of one upstream stream event read at most; a longer one fails the stream. */
  max_upstream_event_bytes: int(1024, 16 * 1024 * 1024),
  /** A foreground request whose client left: a stored one runs to its end (finish_stored) or is stopped (abort). */
  on_client_disconnect: z._default(z.enum(['finish_stored', 'abort']), 'finish_stored'),
  /** Principals that see every principal's cache counts (GET /v1/cache/stats). */
  admin_principals: z._default(z.nullable(z.array(z.string().check(z.minLength(1)))), []),
  /** How long a background job waits for a free concurrency slot before it fails. */
  background_queue_ms: int(0, 300_000),
  /** Local server: connections open at once; more are refused. */
  max_connections: int(1, SERVER_DEFAULTS.maxConnections),
  /** Local server: a request's headers must arrive within this. */
  client_header_timeout_ms: int(100, SERVER_DEFAULTS.headerTimeoutMs),
  /** Local server: a request's body must arrive within this (after its headers). */
  client_body_timeout_ms: int(100, SERVER_DEFAULTS.bodyTimeoutMs),
  /** Local server on SIGTERM: how long requests and jobs still running may go on before they are stopped. */
  shutdown_grace_ms: int(0, SERVER_DEFAULTS.shutdownGraceMs),
});

export type FileConfig = z.output<typeof fileSchema>;

/** Something about the config worth saying at start: a key replaced by something else, or not known. */
export interface ConfigNotice { key: string; message: string }

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
  /** Chat backends: hosted tools left out (and named in a header), or a 400 naming them. */
  unsupportedTools: 'drop' | 'reject';
  /** Keys that seal `encrypted_content` on Chat backends (first seals, all open); null: a key made at start, for this process only. */
  reasoningKeys: string[] | null;
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
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  maxUpstreamResponseBytes: number;
  maxUpstreamEventBytes: number;
  onClientDisconnect: 'finish_stored' | 'abort';
  /** Principals shown every principal's cache counts. */
  adminPrincipals: Set<string>;
  backgroundQueueMs: number;
  /** The local server's own limits (Lambda has its own). */
  server: ServerLimits;
  /** Every configured secret (upstream keys, URL credentials, client keys): scrubbed from upstream text. */
  secrets: string[];
  /** To be logged at start (the config is parsed before anything can log it). */
  notices: ConfigNotice[];
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const KNOWN = new Set([...Object.keys(fileSchema.shape), ...ROUTER_KEY_ALIASES]);
/** An unknown key with one of these in its name may be meant to control access: never ignored. */
const ACCESS_WORDS = /key|auth|token|secret|passw|credential|principal|allow|deny|acl|iam/i;

/** `${NAME}` -> the environment's value in every string; an unset or empty variable is an error naming it and where. */
function expandEnv(value: unknown, env: Record<string, string | undefined>, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_, name: string) => {
      const v = env[name];
      if (!v) throw new ConfigError(`${path}: \${${name}} is not set in the environment (set it, or remove the reference)`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, path ? `${path}.${k}` : k)]));
  }
  return value;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * The Python router's rule: a URL containing `/v1` that is not an Ollama port, and whose base
 * without `/v1` is not also listed, is an OpenAI-style (native Responses) endpoint.
 */
function isNativeEndpoint(url: string, allUrls: readonly string[]): boolean {
  const u = trimSlash(url);
  if (!u.includes('/v1') || u.includes(':11434')) return false;
  const base = u.replace(/\/v1$/, '');
  return !allUrls.some((other) => trimSlash(other) === base);
}

/** The one router key, under any of NOMYO Router's spellings; an explicitly empty one means none (as there). */
function routerKeyOf(raw: Record<string, unknown>, env: Record<string, string | undefined>): { key: string | null; from: string } {
  const given = ROUTER_KEY_ALIASES.filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (new Set(given.map((k) => raw[k])).size > 1) throw new ConfigError(`${given.join(', ')}: the client key is given twice, differently; keep one`);
  const from = given[0] ?? 'router_api_key';
  const value = given.length ? raw[from] : undefined;
  if (value !== undefined && typeof value !== 'string') throw new ConfigError(`${from}: a string expected`);
  if (value) return { key: value, from };
  // NOMYO Router's fallback: its environment variable, when the file leaves the key out or empty.
  if (env.NOMYO_ROUTER_API_KEY) return { key: env.NOMYO_ROUTER_API_KEY, from: 'NOMYO_ROUTER_API_KEY (environment)' };
  return { key: null, from };
}

function clientKeysOf(c: FileConfig, routerKey: { key: string | null; from: string }): Map<string, string> {
  const byKey = new Map<string, string>();
  const add = (key: string, principal: string, where: string) => {
    if (key.trim() === '') throw new ConfigError(`${where}: the client key of principal '${principal}' is empty`);
    const other = byKey.get(key);
    if (other !== undefined) throw new ConfigError(`${where}: principals '${other}' and '${principal}' have the same key; give each its own`);
    byKey.set(key, principal);
  };
  if (routerKey.key) add(routerKey.key, 'default', routerKey.from);
  for (const [principal, key] of Object.entries(c.router_api_keys ?? {})) add(key, principal, `router_api_keys.${principal}`);
  return byKey;
}

/** Sealing keys fail closed: a listed key that is empty or short stops the start (an empty list too). */
function checkReasoningKeys(keys: string[] | null | undefined): void {
  if (keys == null) return;
  if (keys.length === 0) throw new ConfigError('reasoning_keys: the list is empty; give at least one key, or leave the key out');
  keys.forEach((key, i) => {
    if (key.trim().length < MIN_KEY_CHARS) throw new ConfigError(`reasoning_keys[${i}]: a key must be at least ${MIN_KEY_CHARS} characters (e.g. openssl rand -base64 32)`);
  });
}

function noticesOf(raw: Record<string, unknown>, c: FileConfig): ConfigNotice[] {
  const notices: ConfigNotice[] = [];
  for (const key of Object.keys(raw)) {
    if (KNOWN.has(key)) continue;
    if (ACCESS_WORDS.test(key)) throw new ConfigError(`${key}: not a key this gateway knows, and it looks like it controls access; remove it or use router_api_key / router_api_keys`);
    notices.push({ key, message: 'not a key this gateway knows: ignored' });
  }
  for (const key of ['cache_backend', 'cache_db_path', 'cache_redis_url'] as const) {
    if (c[key] != null) notices.push({ key, message: 'the cache lives in DynamoDB here (the cache table): this key is not used' });
  }
  if (c.db_path != null) notices.push({ key: 'db_path', message: 'state lives in DynamoDB here (under DATA_DIR locally): this key is not used' });
  if (c.cache_similarity < 1) notices.push({ key: 'cache_similarity', message: 'semantic caching is not supported yet: entries match exactly (as with 1.0)' });
  if (c.reasoning_keys == null) notices.push({ key: 'reasoning_keys', message: 'not set: encrypted_content (reasoning, compaction) on Chat backends is sealed with a key made at start, so it cannot be opened after a restart or by another process (Lambda instances): set reasoning_keys' });
  if (c.cache_history_weight != null && c.cache_similarity < 1) notices.push({ key: 'cache_history_weight', message: 'used only by semantic caching, which is not supported yet' });
  return notices;
}

/** The config from a document `read` from `source` (a file, CONFIG_JSON): any error names the source, without a stack. */
export function configOf(read: () => unknown, source: string, env: Record<string, string | undefined>): Config {
  try {
    return configFromDocument(read(), env);
  } catch (err) {
    throw new ConfigError(`config ${source}: ${(err as Error).message}`); // a syntax error says where
  }
}

/** Says at start what the config does not do as written (NOMYO Router keys replaced, unknown keys). */
export function logConfigNotices(config: Config, source: string): void {
  for (const n of config.notices) log.warn(`config ${source}: ${n.key}: ${n.message}`, { config: source, key: n.key });
}

export function configFromDocument(document: unknown, env: Record<string, string | undefined> = process.env): Config {
  const parsed = document ?? {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('(root): a mapping of keys expected');
  const raw = expandEnv(parsed, env, '') as Record<string, unknown>;
  const result = fileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const c = result.data;
  checkTimings(c);
  const clientKeys = clientKeysOf(c, routerKeyOf(raw, env));
  checkReasoningKeys(c.reasoning_keys);
  const notices = noticesOf(raw, c);
  const principals = new Set(clientKeys.values());
  for (const admin of c.admin_principals ?? []) {
    if (clientKeys.size > 0 && !principals.has(admin) && !admin.startsWith('arn:')) notices.push({ key: 'admin_principals', message: `'${admin}' is not a principal of router_api_key(s) (nor an IAM ARN): it names nobody` });
  }
  if (clientKeys.size === 0) notices.push({ key: 'router_api_key', message: 'no client key is set: without AWS IAM in front (npm start), requests are not authenticated and every caller is principal "default"' });
  const llama = (c.llama_server_endpoints ?? []).map(trimSlash);
  const entries: Array<{ url: string; type?: string; files?: 'parts' | 'text' }> = [
    ...c.endpoints, ...llama.map((url) => ({ url, type: 'chat' as const })),
  ];
  const urls = entries.map((e) => e.url);
  const keys = c.api_keys ?? {};
  const endpoints = new Map<string, Endpoint>();
  for (const e of entries) {
    const url = trimSlash(e.url);
    const kind = e.type ? (e.type === 'openai' || e.type === 'responses' ? 'responses' : 'chat')
      : llama.includes(url) ? 'chat' : isNativeEndpoint(url, urls) ? 'responses' : 'chat';
    const apiKey = keys[url] ?? keys[`${url}/`] ?? undefined;
    // Neither Ollama, vLLM nor llama.cpp takes Chat `file` parts: text unless the endpoint says it does.
    const files = kind === 'chat' ? { files: e.files ?? 'text' } : {};
    // Ollama has no tokenize API; a llama.cpp server counts with /apply-template + /tokenize.
    const tokenizer = kind !== 'chat' ? {} : llama.includes(url) ? { tokenizer: 'llama.cpp' as const }
      : e.type === 'ollama' || url.includes(':11434') ? { tokenizer: 'none' as const } : {};
    endpoints.set(url, { url, kind, ...files, ...tokenizer, ...(apiKey ? { apiKey } : {}) }); // a URL listed twice is one endpoint
  }
  const secrets = secretsOf([...endpoints.values()], clientKeys, notices);
  return {
    endpoints: [...endpoints.values()],
    maxConcurrentConnections: c.max_concurrent_connections,
    clientKeys,
    cacheEnabled: c.cache_enabled,
    cacheTtlSeconds: c.cache_ttl,
    cacheShared: c.cache_shared,
    responseTtlSeconds: c.response_ttl_days === null ? null : Math.round(c.response_ttl_days * 86_400),
    upstreamTimeoutMs: c.upstream_timeout_ms,
    modelListTtlMs: c.model_list_ttl_ms,
    reasoningHistory: c.reasoning_history,
    unsupportedTools: c.unsupported_tools,
    reasoningKeys: c.reasoning_keys ?? null,
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
    logLevel: c.log_level,
    maxUpstreamResponseBytes: c.max_upstream_response_bytes,
    maxUpstreamEventBytes: c.max_upstream_event_bytes,
    onClientDisconnect: c.on_client_disconnect,
    adminPrincipals: new Set(c.admin_principals ?? []),
    backgroundQueueMs: c.background_queue_ms,
    server: {
      maxConnections: c.max_connections,
      headerTimeoutMs: c.client_header_timeout_ms,
      bodyTimeoutMs: c.client_body_timeout_ms,
      shutdownGraceMs: c.shutdown_grace_ms,
    },
    secrets,
    notices,
  };
}
