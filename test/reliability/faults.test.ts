// Faults: every way an upstream, DynamoDB or the client can break a request, through the local
// server (the real handler over HTTP, dynalite on LevelDB, the local workflow runner, fake and
// raw upstreams as real HTTP servers). What a user is promised, and what each test asserts:
//
//   - A fault BEFORE the upstream's first byte (refused, 5xx, time-out, a malformed non-stream
//     answer) is an HTTP error in OpenAI's envelope (502 upstream_error, 504 upstream_timeout),
//     streaming or not, and NOTHING is stored: the client never got an id, so a failed record
//     would be one nobody can find. In the background the job is already stored: it ends
//     `failed`, and its stream ends with response.failed.
//   - A fault AFTER the first byte ends the stream with exactly one response.failed (gap-free
//     sequence numbers, the stream closed right after it) and the stored response is `failed`
//     with the same error and partial output: GET shows what the stream said.
//   - Nothing stays in_progress past the sweep, even when the process running it dies.
//   - DynamoDB down: a clean 5xx envelope (before the first byte) or a stream that ends cleanly;
//     once it is back (same port, same data) the server serves again without a restart.
//
// Existing integration tests already cover: an in-stream error and a cut stream on the chat
// path (stream only), upstream 400 / 500 (one each), client disconnect with store on and off,
// cancel, a worker killed mid-run (a synthetic record) and a workflow retry after one 503.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../functions/local/gateway.ts';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { sweepOrphans } from '../../shared/service/sweep.ts';
import { startFakeUpstream, type FakeUpstream, type Reply } from '../helpers/fake-upstream.ts';
import { sseEvents } from '../helpers/harness.ts';
import { expectErrorLogs } from '../helpers/log-lines.ts';
import {
  configYaml, countStored, create, expectCleanStream, expectServerErrorEnvelope, openStream, retrieve, sleep,
  startChildGateway, startRawUpstream, stopDynamo, waitFor, waitTerminal, type RawUpstream,
} from './system.ts';

const UPSTREAM_TIMEOUT_MS = 600;
const ORPHAN_AFTER_MS = 1_500;
const SETTINGS = {
  upstream_timeout_ms: UPSTREAM_TIMEOUT_MS,
  model_list_ttl_ms: 600_000, // lists are fetched once: a dead endpoint keeps its models
  max_concurrent_connections: 8,
  slot_lease_ms: 1_500,
  slot_wait_ms: 2_000,
  max_attempts: 2,
  retry_backoff_ms: 20,
  heartbeat_ms: 100,
  flush_ms: 20,
  poll_ms: 20,
  orphan_after_ms: ORPHAN_AFTER_MS,
  sweep_interval_ms: 100,
};

let gw: Gateway;
let base: string;
let dataDir: string;
let chat: FakeUpstream; // vLLM, chat-model
let native: FakeUpstream; // OpenAI Responses, native-model
let dead: FakeUpstream; // Ollama, dead-model: closed after its model list was read
let raw: RawUpstream; // raw-model: bytes written by the test
let dynamo: LocalDynamo; // the running dynalite, then each restart of it
const restarted: LocalDynamo[] = [];
const tmpDirs: string[] = [];

beforeAll(async () => {
  [chat, native, dead] = await Promise.all([
    startFakeUpstream({ flavor: 'vllm', models: ['chat-model'] }),
    startFakeUpstream({ flavor: 'openai', models: ['native-model'] }),
    startFakeUpstream({ flavor: 'ollama', models: ['dead-model'] }),
  ]);
  raw = await startRawUpstream(['raw-model']);
  dataDir = mkdtempSync(join(tmpdir(), 'faults-'));
  tmpDirs.push(dataDir);
  const yaml = configYaml([`"${chat.url}"`, `{ url: "${native.url}/v1", type: openai }`, `"${dead.url}"`, `"${raw.url}"`], SETTINGS);
  // DynamoDB as the gateway meets it on AWS: over the network, so stopping it is an outage the
  // gateway's client sees (refused connections, then the same endpoint back).
  dynamo = await startDynalite({ path: join(dataDir, 'dynamodb') });
  restarted.push(dynamo);
  gw = await startGateway({ configYaml: yaml, dynamoEndpoint: dynamo.endpoint, retryIntervalMs: 10 });
  base = `${gw.url}/v1`;
  // One good answer from the soon-dead endpoint (every model list is read now), then it dies:
  // its port is closed, so the next connection is refused.
  const ok = await create(base, { model: 'dead-model', input: 'warm up' });
  expect(ok.status).toBe(200);
  await dead.close();
}, 60_000);

afterAll(async () => {
  await gw?.close();
  for (const d of restarted) await d.close(); // a no-op for those already stopped
  await Promise.all([chat?.close(), native?.close(), raw?.close()]);
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

/** Every request to `up` gets `reply` while `fn` runs (a router retry sees the same fault). */
async function withFallback<T>(up: FakeUpstream, reply: Reply | ((r: any) => Reply), fn: () => Promise<T>): Promise<T> {
  const before = up.fallback;
  up.fallback = reply;
  try {
    return await fn();
  } finally {
    up.fallback = before;
  }
}

/** The stored response agrees with the stream's terminal event: status, error and output. */
async function expectStoredAsStreamed(terminal: any) {
  const response = terminal.data.response;
  const stored = await retrieve(base, response.id);
  expect(stored.status).toBe(200);
  expect(stored.json.status).toBe(response.status);
  expect(stored.json.error).toEqual(response.error);
  expect(stored.json.output).toEqual(response.output);
  return stored.json;
}

async function replayText(id: string): Promise<string> {
  const res = await fetch(`${base}/responses/${id}?stream=true`);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return res.text();
}

/** Stops the running dynalite; the returned function brings it back (same port and data). */
async function outage(): Promise<() => Promise<void>> {
  const restart = await stopDynamo(dynamo, dataDir);
  return async () => {
    dynamo = await restart();
    restarted.push(dynamo);
  };
}

// ── what each mode must end in ───────────────────────────────────────────────

/** A fault before the first byte, foreground: the HTTP error, and nothing stored. */
async function expectRefusedForeground(model: string, stream: boolean, status: number, code: string) {
  const before = await countStored(gw.dynamo);
  const res = await create(base, { model, input: `fault before first byte (${stream ? 'stream' : 'json'})`, stream });
  expectServerErrorEnvelope(res, status);
  expect(res.json.error.code).toBe(code);
  expect(res.contentType).toMatch(/^application\/json/);
  expect(await countStored(gw.dynamo)).toBe(before);
}

/** A background job that fails: stored `failed`, its log replays to exactly one response.failed. */
async function expectBackgroundFailed(model: string, stream: boolean) {
  const res = await create(base, { model, input: 'background fault', background: true, stream });
  expect(res.status).toBe(200);
  let id: string;
  if (stream) {
    const events = expectCleanStream(res.text);
    expect(events[0]!.data.type).toBe('response.created');
    expect(events.at(-1)!.data.type).toBe('response.failed');
    id = events[0]!.data.response.id;
    const final = await waitTerminal(base, id);
    expect(final.status).toBe('failed');
    expect(events.at(-1)!.data.response.status).toBe('failed');
    expect(events.at(-1)!.data.response.error).toEqual(final.error);
  } else {
    expect(res.json.status).toBe('queued');
    id = res.json.id;
  }
  const final = await waitTerminal(base, id);
  expect(final.status).toBe('failed');
  expect(final.error.code).toBe('server_error');
  expect(final.error.message.length).toBeGreaterThan(0);
  const replay = expectCleanStream(await replayText(id));
  expect(replay.at(-1)!.data.type).toBe('response.failed');
  expect(replay.at(-1)!.data.response.status).toBe('failed');
  expect(replay.at(-1)!.data.response.error).toEqual(final.error);
}

/** A fault mid-stream, foreground: a clean stream ending in response.failed, stored the same. */
async function expectFailedStream(model: string, minDeltas = 1) {
  const res = await create(base, { model, input: 'fault mid-stream', stream: true });
  expect(res.status).toBe(200);
  const events = expectCleanStream(res.text);
  expect(events[0]!.data.type).toBe('response.created');
  const last = events.at(-1)!;
  expect(last.data.type).toBe('response.failed');
  expect(last.data.response.status).toBe('failed');
  expect(last.data.response.error.code).toBe('server_error');
  expect(events.filter((e) => e.data.type.endsWith('.delta')).length).toBeGreaterThanOrEqual(minDeltas);
  expect(events.some((e) => e.data.type === 'response.completed')).toBe(false);
  await expectStoredAsStreamed(last);
}

/** A fault mid-stream in the background: the job's log ends in one response.failed. */
async function expectBackgroundFailedMidStream(model: string, stream: boolean) {
  const res = await create(base, { model, input: 'background fault mid-stream', background: true, stream });
  expect(res.status).toBe(200);
  const id = stream ? sseEvents(res.text)[0]!.data.response.id : res.json.id;
  const final = await waitTerminal(base, id);
  expect(final.status).toBe('failed');
  const replay = expectCleanStream(await replayText(id));
  expect(replay.some((e) => e.data.type.endsWith('.delta'))).toBe(true);
  expect(replay.at(-1)!.data.response.status).toBe('failed');
  expect(replay.at(-1)!.data.response.error).toEqual(final.error);
  if (stream) {
    const live = expectCleanStream(res.text);
    expect(live).toEqual(replay);
  }
}

// ── faults before the first byte ─────────────────────────────────────────────

describe('upstream connection refused (an endpoint on a closed port)', () => {
  it.each([['json', false], ['stream', true]] as const)('%s: 502 in the envelope, nothing stored', async (_m, stream) => {
    await expectRefusedForeground('dead-model', stream, 502, 'upstream_error');
  });
  it.each([['background', false], ['background+stream', true]] as const)('%s: the job fails and its stream ends in response.failed', async (_m, stream) => {
    await expectBackgroundFailed('dead-model', stream);
  });
});

describe.each([
  ['500', 'chat-model', () => chat],
  ['503', 'chat-model', () => chat],
  ['500', 'native-model', () => native],
  ['503', 'native-model', () => native],
] as const)('upstream HTTP %s (%s)', (status, model, up) => {
  const reply: Reply = { status: Number(status), errorMessage: `backend says ${status}` };
  it.each([['json', false], ['stream', true]] as const)('%s: 502 in the envelope, nothing stored', async (_m, stream) => {
    await withFallback(up(), reply, () => expectRefusedForeground(model, stream, 502, 'upstream_error'));
  });
  it.each([['background', false], ['background+stream', true]] as const)('%s: the job fails after its retries', async (_m, stream) => {
    await withFallback(up(), reply, () => expectBackgroundFailed(model, stream));
  });
});

describe('upstream hangs before the first byte (upstream_timeout_ms)', () => {
  it.each([
    ['chat-model', 'json', false], ['chat-model', 'stream', true], ['native-model', 'json', false], ['native-model', 'stream', true],
  ] as const)('%s %s: 504 upstream_timeout, nothing stored', async (model, _m, stream) => {
    const up = model === 'chat-model' ? chat : native;
    const started = Date.now();
    await withFallback(up, { hang: true }, () => expectRefusedForeground(model, stream, 504, 'upstream_timeout'));
    expect(Date.now() - started).toBeLessThan(10 * UPSTREAM_TIMEOUT_MS);
  });
  it.each([['background', false], ['background+stream', true]] as const)('%s: the job fails, its stream ends in response.failed', async (_m, stream) => {
    await withFallback(chat, { hang: true }, () => expectBackgroundFailed('chat-model', stream));
  });
});

describe('a malformed or cut answer to a non-stream request', () => {
  const bodies: Array<[string, string]> = [
    ['not JSON', '{"id": "chatcmpl-1", "choices": ['],
    ['HTML', '<html><body>502 Bad Gateway</body></html>'],
    ['null', 'null'],
    ['an array', '[]'],
    ['choices null', '{"choices": null}'],
    ['a choice without a message', '{"choices": [{"index": 0, "finish_reason": "stop"}]}'],
    ['a message that is null', '{"choices": [{"index": 0, "message": null, "finish_reason": "stop"}]}'],
    ['content that is a number', '{"choices": [{"index": 0, "message": {"role": "assistant", "content": 5}, "finish_reason": "stop"}]}'],
    ['tool_calls that is an object', '{"choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": {"id": "x"}}, "finish_reason": "tool_calls"}]}'],
  ];
  it.each(bodies)('%s: 502 in the envelope, nothing stored', async (_name, body) => {
    raw.handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(body); };
    await expectRefusedForeground('raw-model', false, 502, 'upstream_error');
  });

  it('a body cut in the middle (chat and native): 502, nothing stored', async () => {
    await withFallback(chat, { text: 'a whole answer', cutAfterChunks: 1 }, () => expectRefusedForeground('chat-model', false, 502, 'upstream_error'));
    await withFallback(native, { text: 'a whole answer', cutAfterChunks: 1 }, () => expectRefusedForeground('native-model', false, 502, 'upstream_error'));
  });

  it('a body that stalls in the middle: 504, nothing stored', async () => {
    raw.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
      res.write('{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"par');
    };
    await expectRefusedForeground('raw-model', false, 504, 'upstream_timeout');
  });
});

// ── faults after the first byte ──────────────────────────────────────────────

describe('upstream hangs mid-stream (stalls longer than upstream_timeout_ms)', () => {
  const stall: Reply = { text: 'this answer stalls after its first frames', chunkSize: 5, chunkDelayMs: 5 * UPSTREAM_TIMEOUT_MS };
  it.each([['chat-model'], ['native-model']] as const)('%s stream: response.failed, stored failed', async (model) => {
    // The first frames come at once, then nothing: a stall, not a late first byte. Deltas are
    // only there when a text frame made it before the stall, so none are required here.
    await withFallback(model === 'chat-model' ? chat : native, stall, () => expectFailedStream(model, 0));
  });
  it('chat-model: the stall after some text: the partial text is stored with the failure', async () => {
    // Fast frames, then one long pause before the last ones.
    raw.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'raw-model', choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: null }] })}\n\n`;
      res.write(chunk('partial '));
      res.write(chunk('text'));
      await sleep(5 * UPSTREAM_TIMEOUT_MS);
      if (!res.destroyed) res.end(chunk(' never seen') + 'data: [DONE]\n\n');
    };
    const res = await create(base, { model: 'raw-model', input: 'stall', stream: true });
    const events = expectCleanStream(res.text);
    const last = events.at(-1)!;
    expect(last.data.type).toBe('response.failed');
    expect(last.data.response.error.message).toMatch(/stall|time|answer/i);
    expect(events.filter((e) => e.data.type === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe('partial text');
    const stored = await expectStoredAsStreamed(last);
    expect(stored.output[0].content[0].text).toBe('partial text');
  });
  it.each([['background', false], ['background+stream', true]] as const)('%s: the job fails, its log ends in response.failed', async (_m, stream) => {
    await withFallback(chat, { text: 'background stall here', chunkSize: 3, chunkDelayMs: 5 * UPSTREAM_TIMEOUT_MS }, async () => {
      const res = await create(base, { model: 'chat-model', input: 'bg stall', background: true, stream });
      const id = stream ? sseEvents(res.text)[0]!.data.response.id : res.json.id;
      const final = await waitTerminal(base, id);
      expect(final.status).toBe('failed');
      const replay = expectCleanStream(await replayText(id));
      expect(replay.at(-1)!.data.response.error).toEqual(final.error);
      if (stream) expect(expectCleanStream(res.text)).toEqual(replay);
    });
  });
});

describe('upstream closes the connection mid-stream', () => {
  it.each([['chat-model'], ['native-model']] as const)('%s stream: response.failed, stored failed with the partial output', async (model) => {
    const up = model === 'chat-model' ? chat : native;
    await withFallback(up, { text: 'this stream will be cut off in the middle', chunkSize: 3, cutAfterChunks: 6 }, () => expectFailedStream(model));
  });
  it.each([['background', false], ['background+stream', true]] as const)('%s: the job fails, its log ends in response.failed', async (_m, stream) => {
    await withFallback(chat, { text: 'background cut in the middle', chunkSize: 3, cutAfterChunks: 5 }, () => expectBackgroundFailedMidStream('chat-model', stream));
  });
  it('native background+stream: the job fails', async () => {
    await withFallback(native, { text: 'native background cut', chunkSize: 3, cutAfterChunks: 6 }, () => expectBackgroundFailedMidStream('native-model', true));
  });
});

describe('upstream sends malformed SSE / JSON mid-stream', () => {
  it.each([['chat-model'], ['native-model']] as const)('%s: a frame that is not JSON -> response.failed, stored failed', async (model) => {
    const up = model === 'chat-model' ? chat : native;
    await withFallback(up, { text: 'good frames then garbage', chunkSize: 3, malformedAfterChunks: 5 }, () => expectFailedStream(model));
  });
  it.each([['background', false], ['background+stream', true]] as const)('%s: the job fails, its log ends in response.failed', async (_m, stream) => {
    await withFallback(chat, { text: 'background garbage frame', chunkSize: 3, malformedAfterChunks: 5 }, () => expectBackgroundFailedMidStream('chat-model', stream));
  });

  // Frames that are JSON but not a chat chunk, after a good first frame (mid-stream) and as the
  // very first frame (before the first byte: a 502, like any other bad answer).
  const good = (content: string) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'raw-model', choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: null }] })}\n\n`;
  const junk: Array<[string, string]> = [
    ['null', 'data: null\n\n'],
    ['a number', 'data: 42\n\n'],
    ['a string', 'data: "text"\n\n'],
    ['an array', 'data: [1, 2]\n\n'],
    ['choices not an array', 'data: {"choices": "x"}\n\n'],
    ['a choice that is null', 'data: {"choices": [null]}\n\n'],
    ['a delta that is null', 'data: {"choices": [{"index": 0, "delta": null, "finish_reason": null}]}\n\n'],
    ['content that is a number', 'data: {"choices": [{"index": 0, "delta": {"content": 5}, "finish_reason": null}]}\n\n'],
    ['an error frame that is a bare string', 'data: {"error": "overloaded"}\n\n'],
  ];
  it.each(junk)('%s mid-stream: response.failed, stored failed', async (name, frame) => {
    raw.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(good('first ') + frame + good('after') + 'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n');
    };
    const res = await create(base, { model: 'raw-model', input: `junk ${name}`, stream: true });
    expect(res.status).toBe(200);
    const events = expectCleanStream(res.text);
    const last = events.at(-1)!;
    expect(last.data.type).toBe('response.failed');
    expect(last.data.response.error.message).toMatch(name.startsWith('an error frame') ? /overloaded/ : /malformed/);
    // What came before the junk is kept, and nothing after it.
    expect(events.filter((e) => e.data.type === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe('first ');
    const stored = await expectStoredAsStreamed(last);
    expect(stored.output[0].content[0].text).toBe('first ');
  });
  it('SSE lines that carry no data (event:, id:, comments) are skipped, not junk', async () => {
    raw.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(good('first ') + 'event: ping\nid: 7\n\n: keep-alive\n\n' + good('after') + 'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n');
    };
    const res = await create(base, { model: 'raw-model', input: 'comments', stream: true });
    const events = expectCleanStream(res.text);
    expect(events.at(-1)!.data.type).toBe('response.completed');
    expect(events.at(-1)!.data.response.output_text).toBe('first after');
    await expectStoredAsStreamed(events.at(-1)!);
  });
  it.each(junk)('%s as the first frame: 502, nothing stored', async (_name, frame) => {
    raw.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(frame + good('after') + 'data: [DONE]\n\n');
    };
    await expectRefusedForeground('raw-model', true, 502, 'upstream_error');
  });
  it('a stream that is not SSE at all (an HTML error page with status 200): 502, nothing stored', async () => {
    raw.handler = (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>upstream proxy error</body></html>'); };
    await expectRefusedForeground('raw-model', true, 502, 'upstream_error');
  });
});

// ── the client goes away ─────────────────────────────────────────────────────

describe('client disconnects mid-stream', () => {
  const hasDelta = (t: string) => t.includes('response.output_text.delta');

  it('then the upstream fails: the stored response ends failed (not in_progress)', async () => {
    await withFallback(chat, { text: 'the client left and then the upstream broke', chunkSize: 3, chunkDelayMs: 20, errorAfterChunks: 8 }, async () => {
      const s = await openStream(base, { model: 'chat-model', input: 'leave' }, hasDelta);
      s.drop();
      const final = await waitTerminal(base, s.id);
      expect(final.status).toBe('failed');
      expect(final.error.code).toBe('server_error');
      expect(final.output[0].content[0].text.length).toBeGreaterThan(0);
    });
  });

  it('then the upstream stalls: time-out, the stored response ends failed', async () => {
    await withFallback(chat, { text: 'stalls after the client left', chunkSize: 3, chunkDelayMs: 5 * UPSTREAM_TIMEOUT_MS }, async () => {
      // The first frames come at once; wait for the record, then leave.
      const s = await openStream(base, { model: 'chat-model', input: 'leave, then stall' }, (t) => t.includes('response.in_progress'));
      s.drop();
      const final = await waitTerminal(base, s.id);
      expect(final.status).toBe('failed');
      expect(final.error.message).toMatch(/stall|time/i);
    });
  });

  it('from a background stream: the job completes, and the log replays to response.completed', async () => {
    await withFallback(chat, { text: 'the background job does not care that the client left', chunkSize: 4, chunkDelayMs: 15 }, async () => {
      const s = await openStream(base, { model: 'chat-model', input: 'bg leave', background: true }, hasDelta);
      s.drop();
      const final = await waitTerminal(base, s.id);
      expect(final.status).toBe('completed');
      expect(final.output_text).toBe('the background job does not care that the client left');
      const replay = expectCleanStream(await replayText(s.id));
      expect(replay.at(-1)!.data.type).toBe('response.completed');
      expect(replay.at(-1)!.data.response.output).toEqual(final.output);
    });
  });

  it('and the gateway process dies: the next process sweeps it to failed, its replay ends cleanly', async () => {
    // A real process, killed with SIGKILL mid-stream (no cleanup of any kind), then a second
    // process on the same data directory: its sweeper finds the in_progress record whose
    // heartbeat stopped and fails it. The dying process's own client cannot get a clean end
    // (its server is gone); what is asserted is the stored state and its replay.
    const dir = mkdtempSync(join(tmpdir(), 'faults-child-'));
    tmpDirs.push(dir);
    const configPath = join(dir, 'config.yaml');
    writeFileSync(configPath, configYaml([`"${chat.url}"`], { ...SETTINGS, upstream_timeout_ms: 5_000 }));
    const dataDirChild = join(dir, 'data');
    await withFallback(chat, { text: 'x'.repeat(400), chunkSize: 2, chunkDelayMs: 20 }, async () => {
      const first = await startChildGateway({ configPath, dataDir: dataDirChild });
      let id = '';
      try {
        const s = await openStream(`${first.url}/v1`, { model: 'chat-model', input: 'die' }, (t) => (t.match(/output_text\.delta/g) ?? []).length >= 3);
        id = s.id;
        expect(id).toMatch(/^resp_/);
        const during = await retrieve(`${first.url}/v1`, id);
        expect(during.json.status).toBe('in_progress');
        await first.kill('SIGKILL');
        await s.rest().catch(() => undefined); // the connection is gone with the process
      } finally {
        await first.kill('SIGKILL');
      }
      const second = await startChildGateway({ configPath, dataDir: dataDirChild });
      try {
        const b = `${second.url}/v1`;
        const final = await waitFor(() => retrieve(b, id), (r) => r.json?.status !== 'in_progress', 20 * ORPHAN_AFTER_MS, 50);
        expect(final.status).toBe(200);
        expect(final.json.status, `the second process's log:\n${second.stderr().slice(-3000)}`).toBe('failed');
        expect(final.json.error.message).toMatch(/abandoned/);
        const res = await fetch(`${b}/responses/${id}?stream=true`);
        const events = expectCleanStream(await res.text());
        expect(events.at(-1)!.data.type).toBe('response.failed');
        expect(events.at(-1)!.data.response.error).toEqual(final.json.error);
      } finally {
        await second.kill('SIGTERM');
        await second.kill('SIGKILL');
      }
    });
  }, 60_000);
});

// ── background jobs and the sweeper ─────────────────────────────────────────

describe('background job waiting for a slow first byte', () => {
  it('is not swept as abandoned while its worker waits (first byte slower than orphan_after_ms)', async () => {
    // A model that takes a while to load: the first byte comes after orphan_after_ms but well
    // within upstream_timeout_ms. The worker is alive and waiting; the sweeper must not fail it.
    const before = gw.config.upstreamTimeoutMs;
    gw.config.upstreamTimeoutMs = 4 * ORPHAN_AFTER_MS;
    try {
      await withFallback(chat, { text: 'loaded at last', delayMs: 2 * ORPHAN_AFTER_MS }, async () => {
        const res = await create(base, { model: 'chat-model', input: 'slow load', background: true });
        const final = await waitTerminal(base, res.json.id, 20_000);
        expect(final.error).toBeNull();
        expect(final.status).toBe('completed');
        expect(final.output_text).toBe('loaded at last');
      });
    } finally {
      gw.config.upstreamTimeoutMs = before;
    }
  }, 30_000);
});

// ── DynamoDB goes away ───────────────────────────────────────────────────────

describe('DynamoDB (dynalite) stopped mid-request', () => {
  let storedBefore = '';
  // What these tests are about: DynamoDB refusing connections, as the gateway logs it.
  beforeEach(() => expectErrorLogs(/ECONNREFUSED/));

  beforeAll(async () => {
    const res = await create(base, { model: 'chat-model', input: 'stored before the outage' });
    expect(res.status).toBe(200);
    storedBefore = res.json.id;
  });

  it('stopped before a create: json and stream get a clean 5xx envelope; back on the same port, it serves again', async () => {
    const restart = await outage();
    try {
      for (const body of [
        { model: 'chat-model', input: 'no db' },
        { model: 'chat-model', input: 'no db', stream: true },
        { model: 'chat-model', input: 'no db', background: true },
        { model: 'chat-model', input: 'no db', previous_response_id: storedBefore },
      ]) {
        const res = await create(base, body);
        expectServerErrorEnvelope({ ...res, text: res.text });
        expect(res.contentType).toMatch(/^application\/json/);
      }
      const get = await retrieve(base, storedBefore);
      expect(get.status).toBeGreaterThanOrEqual(500);
      expect(get.json.error.type).toBe('server_error');
    } finally {
      await restart();
    }
    const again = await retrieve(base, storedBefore);
    expect(again.status).toBe(200);
    expect(again.json.status).toBe('completed');
    const res = await create(base, { model: 'chat-model', input: 'after the outage', previous_response_id: storedBefore });
    expect(res.status).toBe(200);
    expect((await retrieve(base, res.json.id)).json.output_text).toBe(res.json.output_text);
  });

  it('stopped after the upstream answered, before the first write: 5xx, and the upstream request is not left running', async () => {
    // The slot is taken and the upstream called while DynamoDB is up; it goes down while the
    // upstream prepares its first byte, so storing the in_progress record fails.
    await withFallback(chat, { text: 'y'.repeat(300), chunkSize: 2, chunkDelayMs: 20, delayMs: 300 }, async () => {
      const n = chat.requests.length;
      const pending = create(base, { model: 'chat-model', input: 'db dies before the first write', stream: true });
      await chat.waitForRequests(n + 1);
      const upstreamReq = chat.requests[n]!;
      const restart = await outage();
      try {
        const res = await pending;
        expectServerErrorEnvelope(res);
        // The client was told it failed: the generation it paid for must stop, not run on
        // unread (the reply lasts ~3 s; a released request closes at once).
        const closed = await waitFor(async () => upstreamReq.closedAt, (v) => v !== undefined, 1_500);
        expect(closed, 'upstream request still open after the client got its 5xx').toBeDefined();
        expect(upstreamReq.aborted).toBe(true);
      } finally {
        await restart();
      }
    });
  });

  it('stopped mid-stream and back before it ends: the stream completes and is stored completed', async () => {
    const text = 'the answer outlives a short DynamoDB outage';
    await withFallback(chat, { text, chunkSize: 2, chunkDelayMs: 40 }, async () => {
      const s = await openStream(base, { model: 'chat-model', input: 'short outage' }, (t) => t.includes('output_text.delta'));
      const restart = await outage();
      await sleep(300); // a few heartbeats fail
      await restart();
      const events = expectCleanStream(await s.rest());
      const last = events.at(-1)!;
      expect(last.data.type).toBe('response.completed');
      expect(last.data.response.output_text).toBe(text);
      await expectStoredAsStreamed(last);
    });
  });

  it('stopped mid-stream and still down when it ends: the stream ends cleanly, the record is swept once DynamoDB is back', async () => {
    // The final write cannot happen. By design (create.ts, persistFinal) the client keeps the
    // answer it was streamed (response.completed) and the record, left in_progress, is failed
    // by the sweeper: it never stays in_progress. This is the one fault where GET differs from
    // what the stream said (nothing can be written while DynamoDB is down); retrying the final
    // write for a bounded time before the terminal event would close the gap for short outages.
    const text = 'completed while DynamoDB was down';
    await withFallback(chat, { text, chunkSize: 2, chunkDelayMs: 20 }, async () => {
      const s = await openStream(base, { model: 'chat-model', input: 'long outage' }, (t) => t.includes('output_text.delta'));
      const restart = await outage();
      let events;
      try {
        events = expectCleanStream(await s.rest());
      } finally {
        await restart();
      }
      const last = events.at(-1)!;
      expect(last.data.type).toBe('response.completed');
      expect(last.data.response.output_text).toBe(text);
      const final = await waitTerminal(base, s.id, 10 * ORPHAN_AFTER_MS);
      expect(final.status).toBe('failed');
      expect(final.error.message).toMatch(/abandoned/);
    });
  });

  /**
   * A background job that has streamed some output when DynamoDB stops for `outageMs`; resolves
   * with its terminal state and when DynamoDB came back. Frames 300 ms apart (under
   * upstream_timeout_ms): between two of them only the worker's heartbeat (every heartbeat_ms)
   * touches DynamoDB, so the outage hits a heartbeat first.
   */
  async function backgroundThroughOutage(text: string, outageMs: number): Promise<{ id: string; final: any; restartedAt: number }> {
    return withFallback(chat, { text, chunkSize: 8, chunkDelayMs: 300 }, async () => {
      const created = await create(base, { model: 'chat-model', input: `bg outage of ${outageMs} ms`, background: true });
      const id = created.json.id;
      await waitFor(() => retrieve(base, id), (r) => r.json?.output?.length > 0);
      const restart = await outage();
      await sleep(outageMs); // heartbeats and flushes fail
      await restart();
      const restartedAt = Date.now();
      return { id, final: await waitTerminal(base, id, 20 * ORPHAN_AFTER_MS), restartedAt };
    });
  }

  it('stopped while a background job streams and back soon: the job rides it out and completes, its log whole', async () => {
    const text = 'a background job that loses its database';
    const { id, final, restartedAt } = await backgroundThroughOutage(text, 500);
    const rec = await gw.svc.store.getAny(id);
    // The log writes that failed were retried (store-retry.ts) until DynamoDB was back.
    expect(final.status, `${final.status} ${Date.now() - restartedAt} ms after the restart; last heartbeat ${Date.now() - (rec as any)?.updatedAt} ms ago; ${JSON.stringify(final.error)}`).toBe('completed');
    expect(final.output_text).toBe(text);
    const replay = expectCleanStream(await replayText(id));
    expect(replay.at(-1)!.data.type).toBe('response.completed');
    expect(replay.filter((e) => e.data.type === 'response.output_text.delta').map((e) => e.data.delta).join('')).toBe(text);
    // Still serving.
    const res = await create(base, { model: 'chat-model', input: 'after the bg outage', stream: true });
    expect(expectCleanStream(res.text).at(-1)!.data.type).toBe('response.completed');
  });

  it('stopped while a background job streams and down longer than its writes wait (5 s): the job ends failed once DynamoDB is back, never stuck', async () => {
    // Past the log writes' 5 s of retries.
    const { id, final } = await backgroundThroughOutage('a background job that outlasts its retries', 6_000);
    expect(final.status).toBe('failed');
    const replay = expectCleanStream(await replayText(id));
    expect(replay.at(-1)!.data.type).toBe('response.failed');
  }, 30_000);

  it('after every outage: old and new responses are retrievable, nothing is left in_progress', async () => {
    expect((await retrieve(base, storedBefore)).json.status).toBe('completed');
    const res = await create(base, { model: 'chat-model', input: 'the end' });
    expect(res.status).toBe(200);
    expect((await retrieve(base, res.json.id)).json.status).toBe('completed');
    // The sweeper's own query: nothing live older than the orphan limit.
    await sleep(ORPHAN_AFTER_MS);
    expect(await sweepOrphans(gw.svc)).toBe(0);
  });
});
