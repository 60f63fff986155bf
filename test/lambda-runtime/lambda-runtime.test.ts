// The three functions as `cdk synth` bundles them, run by AWS's own runtime interface client
// (aws-lambda-ric 4, what Lambda's nodejs24.x runs) on Node 24, against the Runtime API emulator
// of this directory: what the local server (node:http in front of the same handler) cannot show.
// The API gets Function URL events (payload 2.0) and answers in RESPONSE_STREAM mode; it reaches
// dynalite over HTTP, a fake upstream, and a stand-in for Step Functions' StartExecution (AWS
// itself cannot run here). `npm run test:lambda-runtime` runs this file alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { DynamoResponseStore } from '../../shared/adapters/dynamo/responses.ts';
import { newId } from '../../shared/protocol/ids.ts';
import { newResponseObject } from '../../shared/protocol/response.ts';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { sseEvents } from '../helpers/harness.ts';
import { emojiText } from './bodies.ts';
import { bundleAll, functionUrlEvent, runtimeMissing, startRuntime, type Runtime, type UrlRequest } from './runtime.ts';
import { startFakeStepFunctions } from './fake-sfn.ts';
import type { InvokeOptions } from './emulator.ts';

const missing = runtimeMissing();
if (missing) console.warn(`test/lambda-runtime: SKIPPED, the real Lambda runtime cannot run here: ${missing}`);

const model = 'test-model';
const ROLE = 'arn:aws:iam::123456789012:role/agents';
const session = (name: string) => `arn:aws:sts::123456789012:assumed-role/agents/${name}`;


describe.skipIf(missing !== null)(`the bundles under the real Lambda runtime (aws-lambda-ric)${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let dir: string;
  let dynamo: LocalDynamo;
  let upstream: FakeUpstream;
  let sfn: Awaited<ReturnType<typeof startFakeStepFunctions>>;
  let api: Runtime;
  let worker: Runtime;
  let sweeper: Runtime;
  const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Workflow';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-lambda-runtime-'));
    const [bundles, d, u, s] = await Promise.all([
      bundleAll(dir),
      startDynalite(),
      startFakeUpstream({ flavor: 'ollama', models: [`${model}:latest`] }),
      startFakeStepFunctions(),
    ]);
    [dynamo, upstream, sfn] = [d, u, s];
    // What the stack sets (infra/stack.ts), pointed at the stand-ins.
    const config = JSON.stringify({ endpoints: [upstream.url], model_list_ttl_ms: 0, upstream_timeout_ms: 5_000, max_attempts: 1, flush_ms: 20, orphan_after_ms: 60_000 });
    const common = { CONFIG_JSON: config, DYNAMODB_ENDPOINT: dynamo.endpoint, RESPONSES_TABLE: dynamo.tables.responses };
    [api, worker, sweeper] = await Promise.all([
      startRuntime('Api', bundles.Api, { ...common, CACHE_TABLE: dynamo.tables.cache, SECRET_PARAMETERS: '{}', STATE_MACHINE_ARN: STATE_MACHINE, AWS_ENDPOINT_URL_SFN: sfn.url }),
      startRuntime('Worker', bundles.Worker, { ...common, SECRET_PARAMETERS: '{}' }),
      startRuntime('Sweeper', bundles.Sweeper, common),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([api, worker, sweeper].filter(Boolean).map((r) => r.close()));
    await Promise.all([dynamo?.close(), upstream?.close(), sfn?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    // Whatever a test did, no runtime process died of it.
    for (const r of [api, worker, sweeper]) expect(r.process.exitCode, r.output.slice(-20).join('\n')).toBeNull();
  });

  /** One Function URL request to the API; it must stream (the handler's marker) and end without a runtime error. */
  async function call(r: UrlRequest, opts?: InvokeOptions) {
    const res = await api.invoke(functionUrlEvent(r), opts);
    expect(res.mode, `${res.error?.errorType}: ${res.error?.errorMessage}`).toBe('streaming');
    expect(res.error).toBeUndefined();
    const text = res.body.toString('utf8');
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { ...res, text, json };
  }
  const post = (body: unknown, more: Partial<UrlRequest> = {}) => call({ path: '/v1/responses', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...more });

  it('streams (the exported handler carries the marker): status and headers in the prelude, then the body', async () => {
    const res = await call({ path: '/health' });
    expect(res.wire!.headers['lambda-runtime-function-response-mode']).toBe('streaming');
    expect(res.wire!.headers['content-type']).toBe('application/vnd.awslambda.http-integration-response');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('answers JSON: a body over 16,384 UTF-16 code units with emoji comes back byte-exact', async () => {
    const text = emojiText();
    upstream.script({ text });
    const res = await post({ model, input: 'emoji please' });
    expect(res.statusCode).toBe(200);
    expect(res.body.includes(Buffer.from('\uFFFD'))).toBe(false);
    expect(res.json.output_text).toBe(text);
    expect(res.body.equals(Buffer.from(JSON.stringify(res.json)))).toBe(true);
    const read = await call({ path: `/v1/responses/${res.json.id}` });
    expect(read.json.output_text).toBe(text);
  });

  it('streams SSE from a real upstream stream, stores it, and replays it', async () => {
    upstream.script({ deltas: ['Hel', 'lo ', '\u{1F600}', ' world'], chunkDelayMs: 5 });
    const res = await post({ model, input: 'hi', stream: true });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = sseEvents(res.text);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]!.event).toBe('response.created');
    const done = events.at(-1)!.data;
    expect(done.type).toBe('response.completed');
    expect(events.filter((e) => e.event === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe('Hello \u{1F600} world');

    const replay = sseEvents((await call({ path: `/v1/responses/${done.response.id}?stream=true` })).text);
    expect(replay[0]!.event).toBe('response.created');
    expect(replay.at(-1)!.data.response.output).toEqual(done.response.output);
  });

  it('takes base64 bodies (isBase64Encoded) and refuses one that is not UTF-8', async () => {
    upstream.script({ text: 'from base64' });
    const ok = await post(undefined, { body: Buffer.from(JSON.stringify({ model, input: 'hi' })) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json.output_text).toBe('from base64');
    const bad = await post(undefined, { body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body' });
  });

  it("names the caller by its IAM principal: a role's sessions share what it stores, another principal gets 404", async () => {
    upstream.script({ text: 'mine' });
    const created = await post({ model, input: 'hi' }, { userArn: session('first') });
    expect(created.statusCode).toBe(200);
    const id = created.json.id;
    const same = await call({ path: `/v1/responses/${id}`, userArn: session('second') });
    expect(same.statusCode).toBe(200);
    expect((await call({ path: `/v1/responses/${id}`, userArn: ROLE })).statusCode).toBe(200);
    const other = await call({ path: `/v1/responses/${id}`, userArn: 'arn:aws:iam::123456789012:user/someone-else' });
    expect(other.statusCode).toBe(404);
    expect(other.json.error).toMatchObject({ type: 'invalid_request_error', param: null });
    expect((await call({ path: `/v1/responses/${id}` })).statusCode).toBe(404); // no IAM: principal `default`
  });

  it('errors are OpenAI envelopes with their statuses', async () => {
    const cases: [UrlRequest, number, string | null][] = [
      [{ path: '/v1/nothing-here' }, 404, 'unknown_url'],
      [{ path: '/v1/responses', method: 'GET' }, 405, 'method_not_allowed'],
      // A WebSocket handshake (Function URLs carry none): 426, on which clients (Codex) fall back to HTTP at once;
      // also when the hop-by-hop Upgrade header was stripped on the way and only the handshake's key is left.
      [{ path: '/v1/responses', method: 'GET', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } }, 426, 'websocket_not_supported'],
      [{ path: '/v1/responses', method: 'GET', headers: { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } }, 426, 'websocket_not_supported'],
      [{ path: '/v1/responses', headers: { 'content-type': 'application/json' }, body: '{"model": ' }, 400, null],
      [{ path: '/v1/responses', body: JSON.stringify({ model: 'no-such-model', input: 'hi' }) }, 404, null],
    ];
    for (const [req, status, code] of cases) {
      const res = await call(req);
      expect(res.statusCode, req.path).toBe(status);
      expect(res.headers['content-type']).toBe('application/json');
      expect(Object.keys(res.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      if (code) expect(res.json.error.code).toBe(code);
    }
    upstream.script({ status: 500, errorMessage: 'upstream broke' });
    const failed = await post({ model, input: 'hi' });
    expect(failed.statusCode).toBe(502);
    expect(failed.json.error.type).toBe('server_error');
  });

  it('a failure mid-stream ends the stream with response.failed and the invocation cleanly (no runtime error)', async () => {
    upstream.script({ deltas: ['a', 'b', 'c', 'd', 'e'], cutAfterChunks: 3 });
    const res = await post({ model, input: 'hi', stream: true });
    expect(res.statusCode).toBe(200);
    const events = sseEvents(res.text);
    expect(events.at(-1)!.event).toBe('response.failed');
    expect(events.filter((e) => e.event === 'response.failed')).toHaveLength(1);
    const stored = await call({ path: `/v1/responses/${events[0]!.data.response.id}` });
    expect(stored.json.status).toBe('failed');
  });

  it('a broken connection to the Runtime API ends the invocation; the runtime lives on and the stored stream completes', async () => {
    upstream.script({ deltas: Array.from({ length: 20 }, (_, i) => `d${i} `), chunkDelayMs: 10 });
    const broken = await api.invoke(functionUrlEvent({ path: '/v1/responses', body: JSON.stringify({ model, input: 'hi', stream: true }) }), { breakAfterBytes: 600 });
    expect(broken.mode).toBe('broken');
    // The runtime's own promises rejected: logged, not fatal.
    await expect.poll(() => api.output.filter((l) => l.includes('unhandled promise rejection')).length, { timeout: 5_000 }).toBeGreaterThan(0);
    const next = await call({ path: '/health' });
    expect(next.statusCode).toBe(200);
    // store: true, so generation ran on as if the client had stayed: the answer is kept.
    const id = /"id":"(resp_[0-9a-f]+)"/.exec(broken.body.toString('utf8'))?.[1];
    expect(id).toBeDefined();
    await expect.poll(async () => (await call({ path: `/v1/responses/${id}` })).json.status, { timeout: 10_000 }).toBe('completed');
    expect((await call({ path: `/v1/responses/${id}` })).json.output_text).toBe(Array.from({ length: 20 }, (_, i) => `d${i} `).join(''));
  });

  it('the worker (a plain handler) runs a background job the API started', async () => {
    upstream.script({ text: 'done in the background' });
    const created = await post({ model, input: 'hi', background: true });
    expect(created.json.status).toBe('queued');
    const start = sfn.started.at(-1)!;
    expect(start).toMatchObject({ stateMachineArn: STATE_MACHINE, name: created.json.id });
    expect(JSON.parse(start.input)).toEqual({ responseId: created.json.id });
    // What the state machine's RunResponse task gives the worker (infra/workflow.asl.json).
    const ran = await worker.invoke({ action: 'run', responseId: created.json.id, executionId: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${created.json.id}` });
    expect(ran.mode, ran.error?.errorMessage).toBe('buffered');
    const done = await call({ path: `/v1/responses/${created.json.id}` });
    expect(done.json.status).toBe('completed');
    expect(done.json.output_text).toBe('done in the background');
  });

  it('the sweeper (a plain handler) fails an orphaned response', async () => {
    const id = newId('resp');
    const store = new DynamoResponseStore(DynamoDBDocumentClient.from(dynamo.client), dynamo.tables.responses);
    const response = newResponseObject({ id, model, createdAt: Math.floor(Date.now() / 1000), status: 'in_progress', request: { background: true } });
    await store.create({ id, owner: 'default', response, input: [], endpoint: null, updatedAt: 0 }, null);
    const swept = await sweeper.invoke({ action: 'sweep' });
    expect(swept.mode, swept.error?.errorMessage).toBe('buffered');
    expect(JSON.parse(swept.body.toString('utf8')).failed).toBeGreaterThanOrEqual(1);
    const row = await call({ path: `/v1/responses/${id}` });
    expect(row.json.status).toBe('failed');
  });
});
