import { ApiError, badRequest, notFound } from '../protocol/errors.ts';
import { isResponseId, itemIdsFor, newId, type IdPrefix } from '../protocol/ids.ts';
import { resolveItemReferences } from './item-references.ts';
import { newResponseObject } from '../protocol/response.ts';
import type { CreateRequest, InputItem, JsonObject, ResponseObject, StreamEvent } from '../protocol/types.ts';
import type { NewStoredResponse, StoredResponse } from '../ports.ts';
import type { Choice } from '../routing/choose-endpoint.ts';
import { upstreamToApiError } from './upstream-errors.ts';
import { retryingWrite } from './store-retry.ts';
import { chatPath } from './chat-path.ts';
import { nativePath } from './native-path.ts';
import type { Caller, Services } from './context.ts';
import { normalizeInputItems, outputItemsToInputItems, TranslationError } from '../translate/index.ts';
import { ChatStreamTranslator } from '../stream/index.ts';
import { markFailed, tailEvents } from './background.ts';
import { cacheWanted, lookupCached, requestCacheKey, saveCompleted, serveHit } from './cache.ts';
import { appendingTurn, appendTurn, checkTurnInput, conversationHistory, conversationIdOf } from './conversations.ts';

export type CreateResult =
  | { kind: 'json'; body: ResponseObject }
  /** Batches of events as they become ready together (one upstream read, one log read): written out whole. */
  | { kind: 'stream'; events: AsyncIterable<StreamEvent[]> };

/** What a backend path needs to run one response. */
export interface Job {
  req: CreateRequest;
  /** Our Response object so far: id, model, echoed settings; status in_progress. */
  base: ResponseObject;
  /** Earlier turns (inputs and outputs of the chain), then this turn's input. */
  history: InputItem[];
  input: InputItem[];
  signal?: AbortSignal;
  /** Background: the first sequence number of this run's events, after those already logged. */
  nextSequence?: number;
  /** Background: created/queued/in_progress were already logged; emit no opening events. */
  resumed?: boolean;
  /** Ids for this response's items (they name the response: protocol/ids.ts itemIdsFor). */
  newId: (prefix: IdPrefix) => string;
}

/**
 * POST /v1/responses. Resolves the chain, picks an endpoint and runs the translated or native
 * path. Anything that fails before the first streamed byte is thrown as an ApiError, so the
 * client gets a proper HTTP status; after that, failures end the stream with response.failed.
 */
export async function createResponse(svc: Services, caller: Caller, req: CreateRequest, signal?: AbortSignal): Promise<CreateResult> {
  if (req.background) return createBackground(svc, caller, req);
  const store = req.store !== false;
  const nowMs = svc.clock.nowMs();

  // A cached request chooses its endpoint only after a miss: a hit never reaches a backend.
  const useCache = cacheWanted(svc, req);
  // A conversation's items are the history, as a chain's would be (the two are exclusive).
  const conversation = conversationIdOf(req);
  const [chain, chosen, conversationItems] = await Promise.all([
    req.previous_response_id ? loadChain(svc, caller, req.previous_response_id) : Promise.resolve([]),
    useCache ? null : svc.router.rank(req.model),
    conversation ? conversationHistory(svc, caller.principal, conversation) : null,
  ]);
  const parent = chain.at(-1) ?? null;
  const history = conversationItems ?? historyOf(chain);
  const id = newId('resp');
  const ids = itemIdsFor(id);
  const input = normalizeInputItems(await resolveItemReferences(svc, caller, req.input), ids);
  if (conversationItems) checkTurnInput(conversationItems, input);
  // Once the turn is done (before the client hears so), its input and output join the conversation.
  const withTurn = (result: CreateResult): CreateResult => (conversation && result.kind === 'stream'
    ? { kind: 'stream', events: appendingTurn(svc, caller.principal, conversation, input, result.events) }
    : result);

  const base = newResponseObject({
    id,
    model: req.model,
    createdAt: Math.floor(nowMs / 1000),
    status: 'in_progress',
    request: { ...req, store },
  });

  // The cache step: a hit is served (and stored) as is; a miss runs below and is cached once completed.
  const cacheKey = useCache ? requestCacheKey(svc, caller, req, [...history, ...input]) : null;
  const cached = cacheKey ? await lookupCached(svc, cacheKey) : null;
  if (cached) {
    const hit = await serveHit(svc, caller, req, { cached, base, input, parent, newId: ids });
    if (conversation && hit.kind === 'json') await appendTurn(svc, caller.principal, conversation, input, hit.body);
    return withTurn(hit);
  }
  const ranked = chosen ?? await svc.router.rank(req.model);

  const job: Job = { req, base, history, input, signal, newId: ids };
  const pathOf = (c: Choice) => (c.endpoint.kind === 'responses' ? nativePath : chatPath);

  const record = (response: ResponseObject, endpoint: string): NewStoredResponse => ({
    id: base.id,
    owner: caller.principal,
    response,
    input,
    endpoint,
    updatedAt: svc.clock.nowMs(),
    expiresAt: svc.config.responseTtlSeconds === null ? null : Math.floor(nowMs / 1000) + svc.config.responseTtlSeconds,
  });

  // The router holds a concurrency slot for the call and retries failures before the first
  // byte on the next endpoint; the slot is ours to release once the upstream is done.
  if (!req.stream) {
    const routed = await svc.router.call(ranked, (c) => pathOf(c).run(svc, c, job), signal).catch(rethrowUpstream);
    const response = routed.value;
    const released = routed.release(); // the upstream is done: free its slot while we store
    try {
      if (store) await svc.store.create(record(response, routed.choice.endpoint.url), parent);
      if (cacheKey) await saveCompleted(svc, cacheKey, response);
      if (conversation) await appendTurn(svc, caller.principal, conversation, input, response);
    } finally {
      await released;
    }
    return { kind: 'json', body: response };
  }

  const routed = await svc.router.call(ranked, (c) => pathOf(c).stream(svc, c, job), signal).catch(rethrowUpstream);
  const run = routed.value;
  // Stored as in_progress once the upstream has answered, so it can be retrieved (and swept
  // if this process dies) while it streams; the terminal write happens before the client
  // sees the terminal event, so what it was told is what is stored.
  try {
    if (store) await svc.store.create(record(run.snapshot(), routed.choice.endpoint.url), parent);
  } catch (err) {
    run.abort(); // nothing will read the stream: do not leave the upstream generating
    await routed.release();
    throw err;
  }
  async function* events(): AsyncGenerator<StreamEvent[]> {
    // The heartbeat (with the partial output) keeps the sweeper off a long, live stream.
    let beat: Promise<unknown> = Promise.resolve();
    const heartbeat = store ? setInterval(() => {
      beat = svc.store.update(base.id, run.snapshot(), { from: ['in_progress'] }).catch(() => undefined);
    }, svc.config.heartbeatMs) : undefined;
    let toCache = cacheKey; // cached once, before the client sees the terminal event
    try {
      for await (const batch of run.events) {
        // The upstream is done: its slot is freed while the final state is written.
        if (run.finished()) void routed.release();
        if (store && run.finished()) {
          clearInterval(heartbeat);
          await beat;
          await persistFinal(svc, run.snapshot());
        }
        if (toCache && run.finished()) {
          await saveCompleted(svc, toCache, run.snapshot());
          toCache = null;
        }
        yield batch;
      }
    } finally {
      // Also on errors and when the client leaves (the consumer returns early).
      clearInterval(heartbeat);
      await routed.release();
    }
  }
  return withTurn({ kind: 'stream', events: events() });
}

/** How long a stream's final write rides out a DynamoDB outage while its client waits for the terminal event. */
const FINAL_WRITE_RETRY_MS = 1_500;

/**
 * A failed final write must not take the answer away from the client: it is logged, the record
 * stays in_progress, and the sweeper marks it failed.
 */
async function persistFinal(svc: Services, response: ResponseObject): Promise<void> {
  try {
    await retryingWrite(() => svc.store.update(response.id, response, { from: ['in_progress'] }), FINAL_WRITE_RETRY_MS);
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', msg: 'could not store the final response', id: response.id, error: String(err) }));
  }
}

/** What a chain of stored responses was, as input items: each turn's input, then its output. */
export function historyOf(chain: readonly StoredResponse[]): InputItem[] {
  return chain.flatMap((rec) => [...rec.input, ...outputItemsToInputItems(rec.response.output)]);
}

async function loadChain(svc: Services, caller: Caller, id: string): Promise<StoredResponse[]> {
  // An id we could never have issued is not looked up (DynamoDB rejects keys over 2 KB).
  const chain = isResponseId(id) ? await svc.store.getChain(id, caller.principal) : null;
  if (!chain) throw notFound(`Previous response with id '${id}' not found.`, 'previous_response_id');
  return chain;
}

function rethrowUpstream(err: unknown): never {
  if (err instanceof TranslationError) throw badRequest(err.message, err.param ?? null);
  if (err instanceof ApiError) throw err;
  throw upstreamToApiError(err);
}

/** Fields of our request that a native upstream must not see. */
export function nativeRequestBody(req: CreateRequest, model: string, items: InputItem[]): JsonObject {
  const { previous_response_id: _p, background: _b, nomyo: _n, store: _s, stream: _st, conversation: _c, ...rest } = req;
  return { ...rest, model, input: items, store: false };
}

/**
 * `background: true`: store the response as queued with its first events, start the workflow,
 * and answer at once (JSON), or stream the log as the worker fills it.
 */
async function createBackground(svc: Services, caller: Caller, req: CreateRequest): Promise<CreateResult> {
  const nowMs = svc.clock.nowMs();
  const conversation = conversationIdOf(req);
  const [parent, , conversationItems] = await Promise.all([
    req.previous_response_id ? loadParent(svc, caller, req.previous_response_id) : Promise.resolve(null),
    svc.router.rank(req.model), // an unknown model is a 404 now, not a failed job later
    conversation ? conversationHistory(svc, caller.principal, conversation) : null, // the worker reads it again when it starts
  ]);
  const base = newResponseObject({
    id: newId('resp'), model: req.model, createdAt: Math.floor(nowMs / 1000), status: 'queued', request: { ...req, store: true },
  });
  const input = normalizeInputItems(await resolveItemReferences(svc, caller, req.input), itemIdsFor(base.id));
  if (conversationItems) checkTurnInput(conversationItems, input);
  const opening = new ChatStreamTranslator({ response: base });
  const events = [...opening.created(), ...opening.queued()];
  await svc.store.create({
    id: base.id, owner: caller.principal, response: base, input, endpoint: null,
    updatedAt: nowMs, expiresAt: null, lastSeq: events.at(-1)!.sequence_number,
  }, parent);
  await svc.store.appendEvents(base.id, events, base.created_at);
  try {
    await svc.launcher.start(base.id);
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', msg: 'could not start the background job', id: base.id, error: String(err) }));
    await markFailed(svc, { responseId: base.id, error: { Error: 'StartFailed', Cause: 'the workflow could not be started' } });
    throw new ApiError(500, 'The background job could not be started.', 'server_error', null, 'server_error');
  }
  if (!req.stream) return { kind: 'json', body: base };
  async function* live(): AsyncGenerator<StreamEvent[]> {
    yield events;
    yield* tailEvents(svc, base.id, events.at(-1)!.sequence_number);
  }
  return { kind: 'stream', events: live() };
}

async function loadParent(svc: Services, caller: Caller, id: string): Promise<StoredResponse> {
  const parent = isResponseId(id) ? await svc.store.get(id, caller.principal) : null;
  if (!parent) throw notFound(`Previous response with id '${id}' not found.`, 'previous_response_id');
  return parent;
}
