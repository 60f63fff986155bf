// Background responses over HTTP: dynalite, the local workflow runner executing
// infra/workflow.asl.json, and a fake upstream.
import OpenAI from 'openai';
import { conformingFetch } from '../helpers/conformance.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, sseEvents, startSystem, type SseEvent, type System } from '../helpers/harness.ts';
import { newId } from '../../shared/protocol/ids.ts';
import { newResponseObject } from '../../shared/protocol/response.ts';

let sys: System;
let up: System['upstreams'][number];
let client: OpenAI;
const model = 'test-model';

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [{ flavor: 'ollama', models: ['test-model:latest'] }],
    extraConfig: 'flush_ms: 20\npoll_ms: 20\nheartbeat_ms: 200\norphan_after_ms: 60000\nsweep_interval_ms: 3600000',
    retryIntervalMs: 10,
  });
  up = sys.upstreams[0]!;
  client = new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0, fetch: conformingFetch });
});
afterAll(() => sys.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await sleep(20);
  }
}

const retrieve = async (id: string) => (await getJson(`${sys.base}/responses/${id}`)).json;
const terminal = (s: string) => ['completed', 'failed', 'incomplete', 'cancelled'].includes(s);
const waitTerminal = (id: string) => waitFor(() => retrieve(id), (r) => terminal(r.status));

async function replay(id: string, startingAfter?: number): Promise<SseEvent[]> {
  const q = startingAfter === undefined ? '' : `&starting_after=${startingAfter}`;
  const res = await fetch(`${sys.base}/responses/${id}?stream=true${q}`);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return sseEvents(await res.text(), { startingAfter });
}

/** The environment the worker and sweeper Lambdas build their services from, as in AWS, on this gateway's table. */
function lambdaEnv(): void {
  Object.assign(process.env, {
    CONFIG_JSON: JSON.stringify({ endpoints: sys.upstreams.map((u) => u.url), orphan_after_ms: 60_000, upstream_timeout_ms: 5000 }),
    DYNAMODB_ENDPOINT: sys.gw.dynamo.endpoint, RESPONSES_TABLE: sys.gw.dynamo.tables.responses,
    AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local',
  });
}

/** The sweeper Lambda's own entry. */
async function sweeperLambda(): Promise<number> {
  lambdaEnv();
  const { handler } = await import('../../functions/sweeper/handler.ts');
  return (await handler()).failed;
}

function expectGapFree(events: SseEvent[], from = 0) {
  expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => from + i));
}

describe('TestBackgroundMode', () => {
  it('test_background_requires_store', async () => {
    const res = await postJson(`${sys.base}/responses`, { model, input: 'hi', background: true, store: false });
    expect(res.status).toBe(400);
  });

  it('test_background_lifecycle', async () => {
    up.script({ text: 'bg-done' });
    const created = await postJson(`${sys.base}/responses`, { model, input: 'hi', background: true, store: true });
    expect(created.status).toBe(200);
    expect(created.json.status).toBe('queued');
    expect(created.json.background).toBe(true);
    const done = await waitTerminal(created.json.id);
    expect(done.status).toBe('completed');
    expect(done.output_text).toBe('bg-done');
  });

  it('test_fail_orphaned_responses (through the sweeper handler)', async () => {
    const id = newId('resp');
    // The spec stores it with created_at 0; here the heartbeat is what is old (a record created
    // at epoch 0 would be past its 30-day retention and read as gone).
    const response = newResponseObject({ id, model: 'm', createdAt: Math.floor(Date.now() / 1000), status: 'in_progress', request: { background: true } });
    await sys.gw.svc.store.create({ id, owner: 'default', response, input: [], endpoint: null, updatedAt: 0 }, null);
    const failed = await sweeperLambda();
    expect(failed).toBeGreaterThanOrEqual(1);
    const row = await retrieve(id);
    expect(row.status).toBe('failed');
    expect(row.error.code).toBe('server_error');
    expect(row.error.message).toMatch(/abandoned/);
  });
});

describe('background + stream', () => {
  it('streams live: created (queued), queued, in_progress, deltas, completed', async () => {
    up.script({ deltas: ['a', 'b', 'c', 'd'], chunkDelayMs: 20 });
    const res = await fetch(`${sys.base}/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, input: 'x', background: true, stream: true }),
    });
    const events = sseEvents(await res.text());
    expect(events.slice(0, 3).map((e) => e.event)).toEqual(['response.created', 'response.queued', 'response.in_progress']);
    expect(events[0]!.data.response.status).toBe('queued');
    expect(events.at(-1)!.event).toBe('response.completed');
    expect(events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe('abcd');
    expectGapFree(events);
  });

  it('the openai SDK streams it and resumes with responses.stream({response_id, starting_after})', async () => {
    up.script({ deltas: ['Hello', ' ', 'background', ' ', 'world'], chunkDelayMs: 10 });
    const stream = await client.responses.create({ model, input: 'x', background: true, stream: true });
    let id = '';
    const seen: number[] = [];
    for await (const e of stream) {
      if (e.type === 'response.created') id = e.response.id;
      seen.push(e.sequence_number);
      if (seen.length === 6) break; // the client drops the connection
    }
    const resumed = client.responses.stream({ response_id: id, starting_after: 5 });
    const rest: number[] = [];
    resumed.on('event', (e) => rest.push(e.sequence_number));
    const final = await resumed.finalResponse();
    expect(final.output_text).toBe('Hello background world');
    expect(rest[0]).toBe(6);
    expect([...seen, ...rest]).toEqual([...seen, ...rest].map((_, i) => i));

    // retrieve(id, {stream: true}) replays from response.created
    const replayed = await client.responses.retrieve(id, { stream: true });
    const types: string[] = [];
    for await (const e of replayed) types.push(e.type);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
  });

  it('resumes exactly after event N, during the run and after it ended', async () => {
    up.script({ text: 'resumable answer text', chunkSize: 2, chunkDelayMs: 25 });
    const created = await postJson(`${sys.base}/responses`, { model, input: 'x', background: true });
    const id = created.json.id;
    // During the run: wait until some output exists, then resume from several points.
    await waitFor(() => retrieve(id), (r) => r.status === 'in_progress' && r.output.length > 0);
    const during = await Promise.all([-1, 0, 3, 7].map((n) => replay(id, n)));
    const full = await replay(id); // after the end (or tails to it)
    expect(full.at(-1)!.event).toBe('response.completed');
    expectGapFree(full);
    for (const [i, n] of [-1, 0, 3, 7].entries()) {
      expect(during[i]!).toEqual(full.slice(n + 1));
    }
    const afterEnd = await replay(id, 10);
    expect(afterEnd).toEqual(full.slice(11));
    expect(afterEnd[0]!.data.sequence_number).toBe(11);
    expect(full.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe('resumable answer text');
  });
});

describe('cancel', () => {
  it('while queued: the record becomes cancelled and a late worker does not run it', async () => {
    const id = newId('resp');
    const response = newResponseObject({ id, model, createdAt: Math.floor(Date.now() / 1000), status: 'queued', request: { background: true } });
    await sys.gw.svc.store.create({ id, owner: 'default', response, input: [], endpoint: null, updatedAt: Date.now(), lastSeq: -1 }, null);
    const before = up.requests.length;
    const cancelled = await postJson(`${sys.base}/responses/${id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
    await sys.gw.svc.launcher.start(id); // the workflow starting late
    await sleep(100);
    expect((await retrieve(id)).status).toBe('cancelled');
    expect(up.requests.length).toBe(before); // the worker never called the model
    // Cancelling again returns it unchanged.
    const again = await postJson(`${sys.base}/responses/${id}/cancel`, {});
    expect(again.status).toBe(200);
    expect(again.json).toEqual(cancelled.json);
  });

  it('while streaming: the upstream request is aborted and streams end cleanly', async () => {
    up.script({ text: 'x'.repeat(400), chunkSize: 1, chunkDelayMs: 10 });
    const created = await postJson(`${sys.base}/responses`, { model, input: 'long job', background: true });
    const id = created.json.id;
    await waitFor(() => retrieve(id), (r) => r.output.length > 0 && r.output[0].content?.[0]?.text?.length > 5);
    const upstreamReq = up.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!;
    const res = await client.responses.cancel(id);
    expect(res.status).toBe('cancelled');
    // The worker's next write fails and it aborts the upstream request at once.
    await waitFor(async () => upstreamReq.aborted, (v) => v, 5_000);
    expect(upstreamReq.aborted).toBe(true);
    await sleep(100);
    const final = await retrieve(id);
    expect(final.status).toBe('cancelled');
    // A reader of the log gets every committed event and then the terminal one, gap-free.
    const events = await replay(id);
    expectGapFree(events);
    expect(events.at(-1)!.event).toBe('response.failed');
    expect(events.at(-1)!.data.response.status).toBe('cancelled');
    expect(events.some((e) => e.event === 'response.completed')).toBe(false);
  });

  it('after completion -> 400; a foreground response -> 400', async () => {
    up.script({ text: 'done' });
    const created = await postJson(`${sys.base}/responses`, { model, input: 'x', background: true });
    await waitTerminal(created.json.id);
    const late = await postJson(`${sys.base}/responses/${created.json.id}/cancel`, {});
    expect(late.status).toBe(400);
    expect(late.json.error.message).toMatch(/Cannot cancel a completed response/);
    up.script({ text: 'fg' });
    const fg = await postJson(`${sys.base}/responses`, { model, input: 'x' });
    const res = await postJson(`${sys.base}/responses/${fg.json.id}/cancel`, {});
    expect(res.status).toBe(400);
    expect(res.json.error.message).toBe('Only responses created with background=true can be cancelled.');
  });

  it('a cancel racing the completion ends in exactly one terminal state (30 runs)', async () => {
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      up.script({ deltas: ['r', 'a', 'c', 'e'], chunkDelayMs: i % 3 });
      const created = await postJson(`${sys.base}/responses`, { model, input: 'race', background: true });
      const id = created.json.id;
      await sleep(i % 5);
      const cancel = await postJson(`${sys.base}/responses/${id}/cancel`, {});
      const final = await waitTerminal(id);
      const events = await replay(id);
      const terminals = events.filter((e) => ['response.completed', 'response.failed', 'response.incomplete'].includes(e.event!));
      expect(terminals).toHaveLength(1);
      expectGapFree(events);
      if (cancel.status === 200) {
        expect(final.status).toBe('cancelled');
        expect(terminals[0]!.data.response.status).toBe('cancelled');
      } else {
        expect(cancel.status).toBe(400);
        expect(final.status).toBe('completed');
        expect(terminals[0]!.event).toBe('response.completed');
      }
      outcomes[final.status] = (outcomes[final.status] ?? 0) + 1;
    }
    console.log('cancel/complete race outcomes:', outcomes);
  });
});

describe('faults', () => {
  it('a worker killed mid-run: the sweeper marks it failed and the stream closes', async () => {
    // What a dead worker leaves: in_progress under its lease, some events, an old heartbeat.
    const id = newId('resp');
    const response = newResponseObject({ id, model, createdAt: Math.floor(Date.now() / 1000), status: 'in_progress', request: { background: true } });
    const store = sys.gw.svc.store;
    await store.create({ id, owner: 'default', response, input: [], endpoint: null, updatedAt: Date.now() - 10 * 60_000, lastSeq: 2 }, null);
    const { ChatStreamTranslator } = await import('../../shared/stream/index.ts');
    const t = new ChatStreamTranslator({ response });
    await sys.gw.svc.events.append(id, [...t.created(), ...t.queued(), ...t.inProgress()], response.created_at);
    const failed = await sweeperLambda();
    expect(failed).toBeGreaterThanOrEqual(1);
    const row = await retrieve(id);
    expect(row.status).toBe('failed');
    const events = await replay(id);
    expect(events.map((e) => e.event)).toEqual(['response.created', 'response.queued', 'response.in_progress', 'response.failed']);
    expectGapFree(events);
  });

  it('a worker that throws: the workflow catch marks the response failed', async () => {
    // A stored job whose model no endpoint serves any more: the worker throws (not transient).
    const id = newId('resp');
    const response = newResponseObject({ id, model: 'vanished-model', createdAt: Math.floor(Date.now() / 1000), status: 'queued', request: { background: true } });
    await sys.gw.svc.store.create({ id, owner: 'default', response, input: [], endpoint: null, updatedAt: Date.now(), lastSeq: -1 }, null);
    await sys.gw.svc.launcher.start(id);
    const final = await waitTerminal(id);
    expect(final.status).toBe('failed');
    expect(final.error.code).toBe('server_error');
    expect(final.error.message).toMatch(/background job failed/);
    expect(final.error.message).toMatch(/vanished-model/);
  });

  it('a workflow retry after a transient fault does not duplicate output', async () => {
    // Every in-process attempt (routing retries) fails, so the workflow's retry runs the task again.
    const failing = Array.from({ length: sys.gw.config.maxAttempts }, () => ({ status: 503, errorMessage: 'loading model' }));
    up.script(...failing, { deltas: ['only', ' once'] });
    const created = await postJson(`${sys.base}/responses`, { model, input: 'x', background: true });
    const final = await waitTerminal(created.json.id);
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('only once');
    const events = await replay(created.json.id);
    expectGapFree(events);
    expect(events.filter((e) => e.event === 'response.in_progress')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe('only once');
    expect(events.filter((e) => e.event === 'response.completed')).toHaveLength(1);
  });

  it('an upstream 4xx fails the job with the upstream message', async () => {
    up.script({ status: 400, errorMessage: 'prompt too long' });
    const created = await postJson(`${sys.base}/responses`, { model, input: 'x', background: true });
    const final = await waitTerminal(created.json.id);
    expect(final.status).toBe('failed');
    expect(final.error.message).toContain('prompt too long');
    const events = await replay(created.json.id);
    expect(events.at(-1)!.event).toBe('response.failed');
  });

  it('a job near the Lambda time limit ends failed with a clear error, never stuck', async () => {
    // The worker's Lambda entry point, given a context with 31 s left: it keeps a 30 s margin,
    // so it must stop the upstream after about 1 s and finish the response as failed.
    lambdaEnv();
    const { handler: worker } = await import('../../functions/worker/handler.ts');
    const id = newId('resp');
    const response = newResponseObject({ id, model, createdAt: Math.floor(Date.now() / 1000), status: 'queued', request: { background: true } });
    // As the API leaves it: queued, with response.created and response.queued logged.
    await sys.gw.svc.store.create({ id, owner: 'default', response, input: [], endpoint: null, updatedAt: Date.now(), lastSeq: 1 }, null);
    const { ChatStreamTranslator } = await import('../../shared/stream/index.ts');
    const opening = new ChatStreamTranslator({ response });
    await sys.gw.svc.events.append(id, [...opening.created(), ...opening.queued()], response.created_at);
    up.script({ text: 'z'.repeat(600), chunkSize: 1, chunkDelayMs: 10 });
    const result = await worker({ action: 'run', responseId: id, executionId: `exec-${id}` }, { getRemainingTimeInMillis: () => 31_000 });
    expect(result.status).toBe('failed');
    const final = await retrieve(id);
    expect(final.status).toBe('failed');
    expect(final.error.message).toMatch(/time limit of its worker \(15 minutes\)/);
    const events = await replay(id);
    expect(events.at(-1)!.event).toBe('response.failed');
    expect(up.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.aborted).toBe(true);
  });

  it('a job another execution holds is not run; a retry of the holding execution runs it', async () => {
    const id = newId('resp');
    const response = newResponseObject({ id, model, createdAt: Math.floor(Date.now() / 1000), status: 'queued', request: { background: true } });
    await sys.gw.svc.store.create({ id, owner: 'default', response, input: [], endpoint: null, updatedAt: Date.now(), lastSeq: -1 }, null);
    const { runBackground } = await import('../../shared/service/worker.ts');
    expect(await sys.gw.svc.store.claim(id, 'exec-a')).toMatchObject({ lease: 'exec-a' }); // exec-a took it, then its try failed
    const before = up.requests.length;
    expect(await runBackground(sys.gw.svc, { responseId: id, executionId: 'exec-b' })).toEqual({ status: 'not_claimed' });
    expect(up.requests.length).toBe(before); // the model was never called
    expect((await retrieve(id)).status).toBe('in_progress');
    up.script({ text: 'retried' });
    expect(await runBackground(sys.gw.svc, { responseId: id, executionId: 'exec-a' })).toEqual({ status: 'completed' });
    expect((await retrieve(id)).output_text).toBe('retried');
    expect(await runBackground(sys.gw.svc, { responseId: id, executionId: 'exec-a' })).toEqual({ status: 'completed' }); // ended: not run again
    expect(await runBackground(sys.gw.svc, { responseId: newId('resp'), executionId: 'exec-a' })).toEqual({ status: 'missing' });
  });

  it('a job whose conversation was deleted before it started ends failed, saying so', async () => {
    const id = newId('resp');
    const response = newResponseObject({ id, model, createdAt: Math.floor(Date.now() / 1000), status: 'queued', request: { background: true } });
    response.conversation = { id: newId('conv') };
    await sys.gw.svc.store.create({ id, owner: 'default', response, input: [], endpoint: null, updatedAt: Date.now(), lastSeq: -1 }, null);
    const before = up.requests.length;
    await sys.gw.svc.launcher.start(id);
    const final = await waitTerminal(id);
    expect(final.status).toBe('failed');
    expect(final.error.message).toMatch(/Conversation with id 'conv_.*' not found \(it was deleted before the job started\)/);
    expect(up.requests.length).toBe(before);
  });

  it('an unknown model is a 404 at create time, not a failed job', async () => {
    const res = await postJson(`${sys.base}/responses`, { model: 'ghost', input: 'x', background: true });
    expect(res.status).toBe(404);
  });
});
