// POST /v1/responses, as a pipeline: prepare the turn, start it in the background, or answer
// from the cache, or run it on the best endpoint (as JSON or as a stream). Anything that fails
// before the first streamed byte is thrown as an ApiError, so the client gets a proper HTTP
// status; after that, failures end the stream with response.failed.
import { cachedEvents, servedFromCache } from '../cache/serve.ts';
import type { CreateRequest } from '../protocol/request-fields.ts';
import type { ResponseObject, StreamEvent } from '../protocol/types.ts';
import { endpointName, slotKey, type Choice } from '../routing/choose-endpoint.ts';
import type { Held } from '../routing/router.ts';
import { checkChatTools, leftOutToolsHeader } from '../translate/index.ts';
import { log } from '../log.ts';
import { startBackground } from './background.ts';
import { linkedAbort } from './backend-path.ts';
import { chatPath } from './chat-path.ts';
import { unsealForChat } from './chat-sealed.ts';
import type { Caller, Services } from './context.ts';
import { nativePath } from './native-path.ts';
import { retryingWrite } from './store-retry.ts';
import { endTurn, prepareTurn, recordOf, type CreateResult, type Turn } from './turn.ts';
import { rethrowUpstream } from './upstream-errors.ts';
import { UpstreamError } from '../ports.ts';

export async function createResponse(svc: Services, caller: Caller, req: CreateRequest, signal?: AbortSignal): Promise<CreateResult> {
  const slot = req.background ? null : reserveEarly(svc, req.model, signal);
  try {
    const { turn, ranked, cached } = await prepareTurn(svc, caller, req);
    if (req.background) {
      // Known now when only Chat endpoints serve the model: a request they cannot serve is refused before it is queued.
      const chatOnly = !!ranked?.length && ranked.every((c) => c.endpoint.kind === 'chat');
      if (chatOnly) {
        checkChatTools(req, svc.config.unsupportedTools);
        unsealForChat(turn.input, svc.sealer, (i) => `input[${i}]`); // sealed content that does not open is refused before it is queued
      }
      return { ...await startBackground(svc, turn, signal), headers: chatOnly ? leftOutToolsHeader(req) : {} };
    }
    if (cached) {
      slot?.drop();
      return await serveHit(svc, turn, cached);
    }
    const choices = ranked ?? await svc.router.rank(req.model);
    const held = await slot?.take(choices);
    return req.stream ? await streamTurn(svc, turn, choices, held, signal) : await answerTurn(svc, turn, choices, held, signal);
  } catch (err) {
    slot?.drop();
    throw err;
  }
}

const pathOf = (c: Choice) => (c.endpoint.kind === 'responses' ? nativePath : chatPath);

/**
 * A concurrency slot for the call, taken while the turn's reads run (so its round trip overlaps
 * theirs), on the endpoints the router's lists already name; none when they name none. `take`
 * gives it to the call (when it is on one of the endpoints finally ranked), `drop` releases it.
 */
function reserveEarly(svc: Services, model: string, signal?: AbortSignal) {
  const choices = svc.router.chooser.peek(model);
  if (choices.length === 0) return null;
  const abort = linkedAbort(signal);
  const held = svc.router.reserve(choices, abort.signal);
  held.catch(() => undefined); // taken, dropped, or its 429 thrown by take
  let used = false;
  return {
    async take(ranked: readonly Choice[]): Promise<Held | undefined> {
      used = true;
      const h = await held;
      if (ranked.some((c) => slotKey(c) === slotKey(h.choice))) return h;
      await h.lease.release(); // the lists changed meanwhile: the call takes its own
      return undefined;
    },
    drop(): void {
      if (used) return;
      used = true;
      abort.abort();
      void held.then((h) => h.lease.release(), () => undefined);
    },
  };
}

/** The whole answer as JSON. The router holds a concurrency slot for the call and retries failures before the first byte on the next endpoint. */
async function answerTurn(svc: Services, turn: Turn, choices: Choice[], held: Held | undefined, signal?: AbortSignal): Promise<CreateResult> {
  const routed = await svc.router.call(choices, (c) => pathOf(c).run(svc, c, { ...turn, signal }), signal, { reserved: held }).catch((err) => rethrowUpstream(err, signal));
  const response = routed.value;
  try {
    await endTurn(svc, turn, response, async () => {
      if (response.store) await svc.store.create(recordOf(svc, turn, response, routed.choice.endpoint.url), turn.parent);
    });
  } catch (err) {
    await routed.release();
    throw err;
  }
  // The slot is released once the answer is sent: the store is the one write the client waits for.
  return { kind: 'json', body: response, ...served(turn, routed.choice), afterSent: routed.release };
}

/**
 * How a turn was served: the endpoint (for the request's log line), whether the cache was asked
 * and missed, and the hosted tools a Chat backend left out (named in a header; the Chat path logs them).
 */
const served = (turn: Turn, choice: Choice) => ({
  endpoint: endpointName(choice.endpoint),
  ...(turn.cache ? { cached: false } : {}),
  headers: choice.endpoint.kind === 'chat' ? leftOutToolsHeader(turn.req) : {},
});

/**
 * The answer as it streams. A stored one is written as in_progress once the upstream has
 * answered (so it can be retrieved, and swept if this process dies), keeps a heartbeat with its
 * partial output, and its turn ends before the client sees the terminal event.
 */
async function streamTurn(svc: Services, turn: Turn, choices: Choice[], held: Held | undefined, signal?: AbortSignal): Promise<CreateResult> {
  const store = turn.base.store;
  const routed = await svc.router.call(choices, (c) => pathOf(c).stream(svc, c, { ...turn, signal }), signal, { reserved: held }).catch((err) => rethrowUpstream(err, signal));
  const run = routed.value;
  try {
    if (store) await svc.store.create(recordOf(svc, turn, run.snapshot(), routed.choice.endpoint.url), turn.parent);
  } catch (err) {
    run.abort(); // nothing will read the stream: do not leave the upstream generating
    await routed.release();
    throw err;
  }
  async function* events(): AsyncGenerator<StreamEvent[]> {
    let beat: Promise<unknown> = Promise.resolve();
    // A heartbeat that finds the record gone (deleted) or no longer in progress (swept) stops the
    // run: nobody can read what it would go on generating.
    const heartbeat = store ? setInterval(() => {
      beat = svc.store.update(turn.base.id, run.snapshot(), { from: ['in_progress'] }).then((ok) => {
        if (!ok) run.abort(new UpstreamError('The response was deleted (or marked failed) while it was being generated; it was stopped.', 0, 'aborted'));
      }, () => undefined);
    }, svc.config.heartbeatMs) : undefined;
    let ended = false;
    let whole = false;
    try {
      for await (const batch of run.events) {
        if (run.finished() && !ended) {
          ended = true;
          clearInterval(heartbeat);
          await beat;
          const final = run.snapshot(); // one copy of the whole output for the conversation, cache and store
          await endTurn(svc, turn, final, () => (store ? persistFinal(svc, final) : Promise.resolve()));
        }
        yield batch;
      }
      whole = true;
    } finally {
      clearInterval(heartbeat);
      // On errors and when the client left (the consumer returned early) the slot is freed now;
      // after a whole stream, once the client has its end (afterSent): the final store is the
      // one write the client waits for.
      if (!whole) await routed.release();
    }
  }
  return { kind: 'stream', events: events(), ...served(turn, routed.choice), afterSent: routed.release };
}

/** A cached answer, served without reaching any backend, as JSON or the full event lifecycle, and stored like any other (so it can be chained from). */
async function serveHit(svc: Services, turn: Turn, cached: ResponseObject): Promise<CreateResult> {
  const response = servedFromCache(cached, turn.base, turn.newId);
  await endTurn(svc, { ...turn, cache: null }, response, async () => {
    if (response.store) await svc.store.create(recordOf(svc, turn, response, null), turn.parent);
  });
  if (!turn.req.stream) return { kind: 'json', body: response, cached: true };
  const events = cachedEvents(response);
  return { kind: 'stream', events: (async function* () { yield events; })(), cached: true };
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
    log.error('could not store the final response', { id: response.id, error: err as Error });
  }
}
