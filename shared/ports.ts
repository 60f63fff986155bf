// The interfaces the service layer depends on. Adapters (DynamoDB, upstream HTTP) implement
// them; the service never imports an SDK.
import type { RequestSettings } from './protocol/request-fields.ts';
import type {
  ChatChunk, ChatCompletion, ChatRequest, InputItem, JsonObject, ResponseObject, ResponseStatus, StreamEvent,
} from './protocol/types.ts';

/** A stored response: what `GET /v1/responses/{id}` and chains are served from. */
export interface StoredResponse {
  id: string;
  /** The principal that created it; only it can read, chain from, cancel or delete it. */
  owner: string;
  /** The Response object as served; its `status` is the record's status. */
  response: ResponseObject;
  /** This turn's input items, normalized (each with `type` and an `id`). */
  input: InputItem[];
  /** Background: the validated request (its input is `input`), which the worker runs as it is. */
  request?: RequestSettings;
  /** Opaque references to the earlier responses of the chain, oldest first; kept by the store. */
  ancestors: string[];
  /** The endpoint that served it (null until one was chosen). */
  endpoint: string | null;
  /** Epoch ms of the last write: the heartbeat the sweeper reads. */
  updatedAt: number;
  /** Epoch seconds after which the record is gone (the store's retention from created_at), null for never. */
  expiresAt: number | null;
  /** Background: the workflow execution that holds the response (its worker's lease). */
  lease: string | null;
  /** Background: the sequence number of the last event the writer has committed to the log (-1: none). */
  lastSeq: number;
}

export type NewStoredResponse = Omit<StoredResponse, 'ancestors' | 'lease' | 'lastSeq' | 'expiresAt'> & { lastSeq?: number };

export interface UpdateOptions {
  /** The write happens only if the stored status is one of these. */
  from: readonly ResponseStatus[];
  /** ...and, when given, only if the stored lease is this one. */
  lease?: string;
  /**
   * With `lease`: the claim's condition instead of `from` (and `expectUpdatedAt`): the record is `queued`, or
   * `in_progress` under `lease`; the lease is set. A worker handed its job writes this way until
   * it knows its claim landed.
   */
  claim?: boolean;
  /** ...and, when given, only if the heartbeat is unchanged since it was read. */
  expectUpdatedAt?: number;
  /** Records the last event sequence number committed to the log. */
  lastSeq?: number;
  endpoint?: string | null;
}

export interface ResponseStore {
  /** Stores a new record (fails if the id exists). `parent` is the previous response it continues. */
  create(rec: NewStoredResponse, parent: StoredResponse | null): Promise<void>;
  /**
   * Replaces the Response object (status, output, usage, ...) and bumps `updatedAt`, only if the
   * stored status is one of `from`. Returns false when that condition failed.
   */
  update(id: string, response: ResponseObject, opts: UpdateOptions): Promise<boolean>;
  /**
   * A worker's claim, in one conditional write: a `queued` record becomes `in_progress` under
   * `lease` (its execution), its heartbeat bumped; one already `in_progress` under this same lease
   * (a retry of that execution) is claimed again. Returns the record as claimed, or why not: it is
   * missing (or expired), its terminal status, or 'not_claimed' (another execution holds it).
   */
  claim(id: string, lease: string): Promise<StoredResponse | 'missing' | 'not_claimed' | ResponseStatus>;
  /** The record whoever owns it (the worker and sweeper act for the owner). */
  getAny(id: string): Promise<StoredResponse | null>;
  /**
   * How far a record is, whoever owns it: its status and the last event committed to its log.
   * One small read, without the input and output blobs (a live reader's poll); null when missing.
   */
  progress(id: string): Promise<{ status: ResponseStatus; lastSeq: number } | null>;
  /** The record, or null when missing, expired or owned by someone else. */
  get(id: string, owner: string): Promise<StoredResponse | null>;
  /**
   * The record and every earlier response of its chain, oldest first, the record itself last,
   * in at most 2 sequential round trips whatever the length. Null when the record is missing,
   * expired or not the owner's. Ancestors that were deleted or expired are left out.
   */
  getChain(id: string, owner: string): Promise<StoredResponse[] | null>;
  /** Deletes the record and its event log; false when there was nothing of this owner's to delete. */
  delete(id: string, owner: string): Promise<boolean>;
  /** Ids of `queued`/`in_progress` records last written before `beforeMs` (the sweep's candidates; may be stale). */
  listStale(beforeMs: number): Promise<string[]>;
}

/** The event log of a background response: what its live and resumed streams are read from. */
export interface EventLog {
  /** Stores a batch of events (consecutive sequence numbers). Wakes no reader: see `announce`. */
  append(id: string, events: readonly StreamEvent[], createdAt: number): Promise<void>;
  /** The stored events with sequence_number > afterSeq, in order. */
  read(id: string, afterSeq: number): Promise<StreamEvent[]>;
  /**
   * Hands a batch to this process's readers waiting in `announced`. Its writer calls it once the
   * record counts the batch (its `lastSeq`), never before; it may still be being stored.
   */
  announce(id: string, events: readonly StreamEvent[]): void;
  /**
   * Resolves after `ms`, or as soon as this process announces a batch of the log (a worker in the
   * same process as its readers: npm start) or `signal` fires, whichever comes first: with the
   * batch announced, else null. Readers of another process's batches (Lambda) wait out `ms`.
   */
  announced(id: string, ms: number, signal?: AbortSignal): Promise<readonly StreamEvent[] | null>;
}

/** A conversation (`/v1/conversations`): its items live beside it, in the order they were appended. */
export interface StoredConversation {
  id: string;
  /** The principal that created it; only it can read, append to, use or delete it. */
  owner: string;
  /** Epoch seconds. */
  createdAt: number;
  metadata: Record<string, string>;
}

export interface ItemPageQuery {
  order: 'asc' | 'desc';
  /** Items strictly after this item id (in `order`); it must be an item of the conversation. */
  after?: string;
  limit: number;
}

export interface ItemPage {
  items: InputItem[];
  hasMore: boolean;
}

/**
 * Conversations and their items. Every item carries a string `id`, unique within its
 * conversation; appends are totally ordered even when concurrent. Every read and write is
 * scoped to the owner: someone else's conversation reads as missing (null / false).
 */
export interface ConversationStore {
  /** Stores a new conversation with its first items (fails if the id exists). */
  create(conv: StoredConversation, items: InputItem[]): Promise<void>;
  get(id: string, owner: string): Promise<StoredConversation | null>;
  /** Replaces the metadata; null when missing. */
  updateMetadata(id: string, owner: string, metadata: Record<string, string>): Promise<StoredConversation | null>;
  /** Deletes the conversation and its items; false when there was nothing of this owner's to delete. */
  delete(id: string, owner: string): Promise<boolean>;
  /** Appends items after every item appended before; false when the conversation is missing. */
  append(id: string, owner: string, items: InputItem[]): Promise<boolean>;
  /** The conversation and all its items, oldest first; null when missing. */
  load(id: string, owner: string): Promise<{ conversation: StoredConversation; items: InputItem[] } | null>;
  /** One page of items; null when the conversation is missing, `'bad_cursor'` when `after` is not one of its items. */
  listItems(id: string, owner: string, q: ItemPageQuery): Promise<ItemPage | 'bad_cursor' | null>;
  /** Which of these item ids the conversation already holds (the conversation's existence is not checked). */
  existingItemIds(id: string, itemIds: readonly string[]): Promise<Set<string>>;
  /** One item; null when it or the conversation is missing. */
  getItem(id: string, owner: string, itemId: string): Promise<InputItem | null>;
  /** Deletes one item and returns the conversation; null when it or the conversation is missing. */
  deleteItem(id: string, owner: string, itemId: string): Promise<StoredConversation | null>;
}

/** Hit and miss counts of the response cache, over every process. */
export interface CacheStats { hits: number; misses: number }

/** Completed answers by cache key (shared/cache/key.ts), in the `cache` table. */
export interface CacheStore {
  /**
   * The cached Response, or null when missing, expired (even if not yet deleted) or made from
   * another history than `history` (a fingerprint: cache/key.ts), which may still be being read
   * while the entry is. Counts a hit or a miss, in the totals and, when given, for the principal that asked.
   */
  get(key: string, nowMs: number, history: Promise<string>, principal?: string): Promise<ResponseObject | null>;
  /** Stores the Response, made from `history`, for `ttlSeconds` (null: never expires). An entry too large is skipped with a log line. */
  put(key: string, response: ResponseObject, ttlSeconds: number | null, history: string): Promise<void>;
  /** One principal's counts, or (none given) every principal's, this process's not yet flushed ones included. */
  stats(principal?: string): Promise<CacheStats>;
}

/** How we reach one upstream. */
export interface Endpoint {
  /** The configured URL, as written in config (identity of the endpoint). */
  url: string;
  /** `chat`: Ollama-style / any Chat Completions server. `responses`: native Responses API (OpenAI). */
  kind: 'chat' | 'responses';
  /** Chat endpoints: `input_file` parts as Chat `file` parts, or turned into text (what Ollama, vLLM and llama.cpp need). */
  files?: 'parts' | 'text';
  /**
   * Chat endpoints: how prompts are counted. `llama.cpp`: /apply-template then /tokenize; `none`:
   * no tokenizer (Ollama); unset: vLLM's /tokenize is tried (a llama.cpp answer is recognized).
   */
  tokenizer?: 'llama.cpp' | 'none';
  apiKey?: string;
}

/** Why an upstream call failed, and whether another try (or endpoint) may help: what every Backend throws. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    /** The upstream's HTTP status, or 0 when there was no HTTP answer (refused, reset, time-out). */
    readonly status: number,
    readonly kind: 'connect' | 'timeout' | 'http' | 'protocol' | 'aborted',
    /** The upstream's own error message, when it sent one. */
    readonly upstreamMessage?: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  /** Connection errors, time-outs, 429 and 5xx may succeed elsewhere or later; 4xx will not. */
  get retryable(): boolean {
    return this.kind === 'connect' || this.kind === 'timeout' || (this.kind === 'http' && (this.status === 429 || this.status >= 500));
  }
}

export interface UpstreamCall {
  /** Aborting stops the call. With the reason UPSTREAM_DONE it means "I have all I need": the rest of the body is read and dropped, so the connection can serve the next call. */
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** The abort reason of a caller that read a stream to its logical end ([DONE], the terminal event). */
export const UPSTREAM_DONE = Symbol('upstream done');

/** An SSE frame from a native Responses upstream. */
export interface UpstreamEvent { event?: string; data: JsonObject }

export interface Backend {
  chat(ep: Endpoint, req: ChatRequest, call?: UpstreamCall): Promise<ChatCompletion>;
  /**
   * Chunks in batches, one per read of the upstream socket (a batch is never empty). Throws
   * UpstreamError before the first chunk; after that, a failure ends the iterator with one.
   */
  chatStream(ep: Endpoint, req: ChatRequest, call?: UpstreamCall): AsyncIterable<ChatChunk[]>;
  responses(ep: Endpoint, body: JsonObject, call?: UpstreamCall): Promise<JsonObject>;
  /** Events in batches, one per read of the upstream socket (a batch is never empty). */
  responsesStream(ep: Endpoint, body: JsonObject, call?: UpstreamCall): AsyncIterable<UpstreamEvent[]>;
  /**
   * The prompt tokens of a Chat request (its messages and tools, as the model's template renders
   * them), counted by the server's tokenizer; null when the endpoint has none.
   */
  countTokens(ep: Endpoint, req: ChatRequest, call?: UpstreamCall): Promise<number | null>;
  /** A JSON POST to a native endpoint's `/responses/<path>` (input_tokens, compact), its JSON answer. */
  responsesJson(ep: Endpoint, path: 'input_tokens' | 'compact', body: JsonObject, call?: UpstreamCall): Promise<JsonObject>;
  /** Model names the endpoint advertises (`/api/tags` for Ollama-style, `/models` for native). */
  listModels(ep: Endpoint, call?: UpstreamCall): Promise<string[]>;
  /**
   * Models loaded in memory right now (`/api/ps`), or null when the endpoint has no such notion
   * (vLLM, llama.cpp, OpenAI: whatever they list is ready).
   */
  listLoaded(ep: Endpoint, call?: UpstreamCall): Promise<string[] | null>;
}

/**
 * Concurrency slots shared by every process (Lambda instance): slot `n` of a key
 * (`<endpoint>|<model>`) is held by whoever wrote it last, until `untilMs`.
 */
export interface SlotStore {
  /** Only this process can hold a slot (it owns the database): its own bookkeeping is the whole truth, no lease needs renewing. */
  readonly local?: boolean;
  /** Takes the slot if it is free or its lease has expired by `nowMs`; false when someone holds it. */
  take(key: string, slot: number, holder: string, untilMs: number, nowMs: number): Promise<boolean>;
  /** The slot numbers of `key` whose lease has not expired by `nowMs`. */
  held(key: string, nowMs: number): Promise<number[]>;
  /** Extends the holder's lease; false when the slot is no longer the holder's. */
  renew(key: string, slot: number, holder: string, untilMs: number): Promise<boolean>;
  /** Frees the slot if the holder still has it. */
  release(key: string, slot: number, holder: string): Promise<void>;
}

/** Starts and stops the workflow that runs a background response. */
/** What a worker runs: the queued record as the API stored it. */
export type QueuedJob = Pick<StoredResponse, 'id' | 'owner' | 'response' | 'input' | 'request' | 'lastSeq'>;

export interface BackgroundLauncher {
  /**
   * Starts the run named after the response; starting the same response twice runs it once.
   * `job` is the record just stored: a worker in this process (npm start) is handed it and reads
   * nothing before its upstream call; a launcher of other processes (Step Functions) drops it.
   */
  start(responseId: string, job?: QueuedJob): Promise<void>;
  /** Best-effort stop (the worker notices a cancel by its failing writes anyway). */
  stop(responseId: string): Promise<void>;
}

/** Reads the text of documents a Chat backend cannot take as files. */
export interface DocumentReader {
  /** The text of a PDF, at most `maxChars` characters of it (`truncated` when there was more). Throws on a file that is not a readable PDF. */
  pdfText(bytes: Uint8Array, maxChars: number): Promise<{ text: string; truncated: boolean }>;
}

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
