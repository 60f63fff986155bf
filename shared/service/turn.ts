// A turn: one response in the making, from the validated request to its terminal state. Every
// way of making one (JSON, stream, cache hit, background worker) prepares it here and ends it
// here, in `endTurn`, so what a finished turn leaves behind is the same whichever way it went.
import { notFound } from '../protocol/errors.ts';
import { isResponseId, itemIdsFor, newId, type IdPrefix } from '../protocol/ids.ts';
import { requestEchoedBy, type CreateRequest } from '../protocol/request-fields.ts';
import { newResponseObject } from '../protocol/response.ts';
import type { InputItem, ResponseObject, StreamEvent } from '../protocol/types.ts';
import type { NewStoredResponse, QueuedJob, StoredResponse } from '../ports.ts';
import type { Choice } from '../routing/choose-endpoint.ts';
import { normalizeInputItems, outputItemsToInputItems } from '../translate/index.ts';
import { historyFingerprint } from '../cache/key.ts';
import { cacheWanted, lookupCached, requestCacheKey, saveCompleted, type CacheSlot } from './cache.ts';
import type { Caller, Services } from './context.ts';
import { appendTurn, checkTurnInput, conversationHistory, conversationIdOf } from './conversations.ts';
import { resolveItemReferences } from './item-references.ts';
import { maskUrls } from '../redact.ts';

export interface Turn {
  /** The principal that owns it. */
  owner: string;
  /** The request as validated (a background run's: as stored; its `input` is then `input` below). */
  req: CreateRequest;
  /** Our Response object so far: id, model, echoed settings, status. */
  base: ResponseObject;
  /** This turn's input items, normalized, with ids that name the response. */
  input: InputItem[];
  /** What the model sees before them: the chain's turns, or the conversation's items. */
  history: InputItem[];
  /** The response it continues (previous_response_id), for the stored record's chain. */
  parent: StoredResponse | null;
  conversation: string | null;
  /** Where its answer is cached, when the cache is used. */
  cache: CacheSlot | null;
  /** Ids for its items (they name the response: protocol/ids.ts itemIdsFor). */
  newId: (prefix: IdPrefix) => string;
  /** A background run: its opening events are logged already; it may be a retry of an earlier try. */
  resumed?: boolean;
  /** The first sequence number of this run's events (after those already logged). */
  nextSequence?: number;
}

/** A turn as a backend path runs it. */
export type Job = Turn & { signal?: AbortSignal };

/** How a create was answered, for the request's log line: the endpoint (shown without credentials) and whether the cache answered. */
export interface Served { endpoint?: string; cached?: boolean }

export type CreateResult = Served & (
  | { kind: 'json'; body: ResponseObject }
  /** Batches of events as they become ready together (one upstream read, one log read): written out whole. */
  | { kind: 'stream'; events: AsyncIterable<StreamEvent[]> }
) & {
  /** Response headers beyond the content type (the hosted tools a Chat backend left out). */
  headers?: Record<string, string>;
  /**
   * What is left once the client has its last byte (the concurrency slot's release): whoever
   * sends the answer calls it then, and the invocation waits for it. Safe to call twice.
   */
  afterSent?: () => Promise<void>;
};

/** A new turn, and what was found while preparing it. */
export interface Prepared {
  turn: Turn;
  /** The endpoints for the call, best first; null when the cache may answer (ranked after a miss, so a hit asks no backend). */
  ranked: Choice[] | null;
  /** The answer the cache holds for it, if any. */
  cached: ResponseObject | null;
}

/**
 * A new turn from a validated request. Its reads run side by side: the history (chain or
 * conversation), the items it references, the endpoints (unless the cache may answer) and the
 * cache lookup, keyed by what is known before any read (request.ts: the history's fingerprint is
 * checked once read). Unknown ids and models are 404s here, before anything is stored.
 */
export async function prepareTurn(svc: Services, caller: Caller, req: CreateRequest): Promise<Prepared> {
  const background = req.background === true;
  const conversation = conversationIdOf(req);
  // A background job needs only its parent now; its worker reads the chain when it starts.
  const reads = readsOf(svc, caller, req, conversation, background);
  const history = reads.then(([chain, items]) => (background ? [] : items ?? historyOf(chain)));
  const key = cacheWanted(svc, req) ? requestCacheKey(svc, caller, req, normalizeInputItems(req.input)) : null;
  const fingerprint = key ? history.then(historyFingerprint) : null;
  // A failed read is thrown below, by `reads`; these only follow it.
  history.catch(() => undefined);
  fingerprint?.catch(() => undefined);
  const [[chain, conversationItems, resolved], ranked, cached] = await Promise.all([
    reads,
    key ? null : svc.router.rank(req.model), // also for background: an unknown model is a 404 now, not a failed job later
    key ? lookupCached(svc, key, fingerprint!, caller.principal) : null,
  ]);
  const id = newId('resp');
  const ids = itemIdsFor(id);
  const input = normalizeInputItems(resolved, ids);
  if (conversationItems) checkTurnInput(conversationItems, input);
  const base = newResponseObject({
    id, model: req.model, createdAt: Math.floor(svc.clock.nowMs() / 1000),
    status: background ? 'queued' : 'in_progress', request: { ...req, store: background || req.store !== false },
  });
  const cache = key ? { key, history: (await fingerprint)! } : null;
  const turn: Turn = { owner: caller.principal, req, base, input, history: await history, parent: chain.at(-1) ?? null, conversation, cache, newId: ids };
  return { turn, ranked, cached };
}

/**
 * What a request continues (its chain, or its conversation's items) and its own input, read as a
 * create reads them (references resolved, unknown ids 404): for input_tokens and compact, which
 * run no turn and store nothing.
 */
export async function readContext(
  svc: Services, caller: Caller, req: Pick<CreateRequest, 'previous_response_id' | 'conversation'> & { input?: CreateRequest['input'] | null },
): Promise<{ history: InputItem[]; input: InputItem[]; parent: StoredResponse | null }> {
  const [chain, items, resolved] = await readsOf(svc, caller, { ...req, input: req.input ?? [] }, conversationIdOf(req), false);
  return { history: items ?? historyOf(chain), input: normalizeInputItems(resolved), parent: chain.at(-1) ?? null };
}

/**
 * A turn's reads, side by side: its chain (only the parent with `parentOnly`), its conversation's
 * items, its input with the items it references resolved.
 */
function readsOf(
  svc: Services, caller: Caller, req: Pick<CreateRequest, 'previous_response_id' | 'input'>, conversation: string | null, parentOnly: boolean,
): Promise<[StoredResponse[], InputItem[] | null, CreateRequest['input']]> {
  return Promise.all([
    req.previous_response_id ? loadChain(svc, caller, req.previous_response_id, parentOnly) : [],
    conversation ? conversationHistory(svc, caller.principal, conversation) : null,
    resolveItemReferences(svc, caller, req.input),
  ]);
}

/** A background response's turn as its worker runs it: the stored request, a conversation's items or the chain's. */
export function resumeTurn(rec: QueuedJob, history: InputItem[], outputIdsFrom: number): Turn {
  return {
    owner: rec.owner,
    // Records queued before requests were stored: the request as their Response echoes it.
    req: { ...(rec.request ?? requestEchoedBy(rec.response)), input: rec.input },
    base: { ...rec.response, status: 'in_progress' },
    input: rec.input,
    history,
    parent: null,
    conversation: rec.response.conversation?.id ?? null,
    cache: null,
    newId: itemIdsFor(rec.id, outputIdsFrom),
    resumed: true,
    nextSequence: rec.lastSeq + 1,
  };
}

/** The stored record of a turn with this Response (the one builder of records). */
export function recordOf(svc: Services, turn: Turn, response: ResponseObject, endpoint: string | null): NewStoredResponse {
  return { id: turn.base.id, owner: turn.owner, response, input: turn.input, endpoint: endpoint && maskUrls(endpoint), updatedAt: svc.clock.nowMs() };
}

/**
 * The one place a turn ends, before anyone can see how: its input and output join the
 * conversation (when it completed or ended incomplete), then `commit` stores the final state,
 * which is what retrieve, log readers and the client are shown next (a stored terminal state thus
 * always means the conversation has it), and beside it a completed answer is cached.
 */
export async function endTurn<T>(svc: Services, turn: Turn, response: ResponseObject, commit: () => Promise<T>): Promise<T> {
  // A resumed run may be a retry that appended already: only what is not there yet.
  if (turn.conversation) await appendTurn(svc, turn.owner, turn.conversation, turn.input, response, turn.resumed === true);
  // The cache entry is not what a stored state promises (a miss costs a call, not an answer), so
  // its write runs beside the commit rather than before it. saveCompleted never rejects.
  const [, result] = await Promise.all([turn.cache && saveCompleted(svc, turn.cache, response), commit()]);
  return result;
}

/** What a chain of stored responses was, as input items: each turn's input, then its output. */
export function historyOf(chain: readonly StoredResponse[]): InputItem[] {
  return chain.flatMap((rec) => [...rec.input, ...outputItemsToInputItems(rec.response.output)]);
}

/** The chain ending at `id` (only that response when `parentOnly`), or a 404 naming previous_response_id. */
async function loadChain(svc: Services, caller: Caller, id: string, parentOnly: boolean): Promise<StoredResponse[]> {
  // An id we could never have issued is not looked up (DynamoDB rejects keys over 2 KB).
  const chain = !isResponseId(id) ? null
    : parentOnly ? await svc.store.get(id, caller.principal).then((rec) => rec && [rec])
      : await svc.store.getChain(id, caller.principal);
  if (!chain) throw notFound(`Previous response with id '${id}' not found.`, 'previous_response_id');
  return chain;
}
