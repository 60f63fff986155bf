// `background: true` on the API side: the response is stored as queued with its first two events
// and its validated request (the worker runs that request as it is), the workflow is started, and
// the client gets the queued Response at once, or the log streamed as the worker fills it.
import { ApiError } from '../protocol/errors.ts';
import type { StreamEvent } from '../protocol/types.ts';
import { ChatStreamTranslator } from '../stream/index.ts';
import { log } from '../log.ts';
import type { Services } from './context.ts';
import { tailEvents } from './event-log.ts';
import { recordOf, type CreateResult, type Turn } from './turn.ts';
import { markFailed } from './worker.ts';

/** `signal`: the live reader's client left (the job goes on). */
export async function startBackground(svc: Services, turn: Turn, signal?: AbortSignal): Promise<CreateResult> {
  const { base } = turn;
  const opening = new ChatStreamTranslator({ response: base });
  const events = [...opening.created(), ...opening.queued()];
  const lastSeq = events.at(-1)!.sequence_number;
  const { input: _input, ...request } = turn.req;
  // Side by side: nothing reads the log before the job starts, and a log without its record
  // (the create failed) is never read.
  const record = { ...recordOf(svc, turn, base, null), request, lastSeq };
  await Promise.all([
    svc.store.create(record, turn.parent),
    svc.events.append(base.id, events, base.created_at),
  ]);
  try {
    // The record goes along for a worker in this process (npm start), which then reads nothing.
    // Shared, not copied: the worker spreads it (resumeTurn) and never changes a nested object.
    await svc.launcher.start(base.id, record);
  } catch (err) {
    log.error('could not start the background job', { id: base.id, error: err as Error });
    await markFailed(svc, { responseId: base.id, error: { Error: 'StartFailed', Cause: 'the workflow could not be started' } });
    throw new ApiError(500, 'The background job could not be started.', 'server_error', null, 'server_error');
  }
  if (!turn.req.stream) return { kind: 'json', body: base };
  async function* live(): AsyncGenerator<StreamEvent[]> {
    yield events;
    yield* tailEvents(svc, base.id, lastSeq, signal, { justStarted: true });
  }
  return { kind: 'stream', events: live() };
}
