// Routing over HTTP (issue 5): endpoint choice (the model's endpoints, loaded first, then the
// least loaded), global concurrency slots leased in DynamoDB, retries with failover before the
// first byte, and the 429 when saturated. The last block runs two gateway processes on one
// dynalite, as two Lambda instances share one table.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../functions/local/gateway.ts';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { countCalls } from '../helpers/count-calls.ts';
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from '../helpers/fake-upstream.ts';
import { getJson, postJson, sseEvents } from '../helpers/harness.ts';

const REPO = join(import.meta.dirname, '..', '..');
const chats = (u: FakeUpstream, model?: string) =>
  u.requests.filter((r) => r.path === '/v1/chat/completions' && (!model || r.body?.model === model));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

function configYaml(endpoints: string[], keys: Record<string, unknown>): string {
  return ['endpoints:', ...endpoints.map((u) => `  - "${u}"`), ...Object.entries(keys).map(([k, v]) => `${k}: ${JSON.stringify(v)}`)].join('\n');
}

/** A port nothing listens on: connections to it are refused. */
async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

async function startUpstreams(specs: Record<string, FakeUpstreamOptions>): Promise<Record<string, FakeUpstream>> {
  const entries = await Promise.all(Object.entries(specs).map(async ([name, o]) => [name, await startFakeUpstream(o)] as const));
  return Object.fromEntries(entries);
}

async function streamCreate(base: string, body: object) {
  const res = await fetch(`${base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  return { status: res.status, events: sseEvents(await res.text()) };
}

describe('choosing an endpoint, retries and failover', () => {
  let gw: Gateway;
  let base: string;
  let up: Record<string, FakeUpstream>;

  beforeAll(async () => {
    up = await startUpstreams({
      alpha: { flavor: 'ollama', models: ['alpha:latest'] },
      beta: { flavor: 'vllm', models: ['beta'] },
      cold: { flavor: 'ollama', models: ['both:latest'] },
      warm: { flavor: 'ollama', models: ['both:latest'], loaded: ['both:latest'] },
      fo1: { flavor: 'ollama', models: ['fo:latest'] },
      fo2: { flavor: 'ollama', models: ['fo:latest'] },
      dead1: { flavor: 'ollama', models: ['dead:latest'] },
      dead2: { flavor: 'ollama', models: ['dead:latest'] },
      four1: { flavor: 'ollama', models: ['four:latest'] },
      four2: { flavor: 'ollama', models: ['four:latest'] },
      flaky: { flavor: 'ollama', models: ['flaky:latest'] },
      slow1: { flavor: 'ollama', models: ['slow:latest'] },
      slow2: { flavor: 'ollama', models: ['slow:latest'] },
    });
    up.flaky!.fallback = { status: 500, errorMessage: 'always broken' };
    const never = await closedPortUrl(); // down from the start: no models, never chosen
    gw = await startGateway({
      configYaml: configYaml([never, ...Object.values(up).map((u) => u.url)], {
        api_keys: {},
        max_concurrent_connections: 1,
        model_list_ttl_ms: 600_000, // lists stay as first fetched: an endpoint that dies stays a candidate
        upstream_timeout_ms: 1000,
        slot_wait_ms: 5000,
        max_attempts: 3,
        retry_backoff_ms: 20,
      }),
    });
    base = `${gw.url}/v1`;
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all(Object.values(up ?? {}).map((u) => u.close()));
  });

  it('routes each model to the endpoint that serves it', async () => {
    up.alpha!.script({ text: 'from alpha' });
    up.beta!.script({ text: 'from beta' });
    const a = await postJson(`${base}/responses`, { model: 'alpha', input: 'x' });
    const b = await postJson(`${base}/responses`, { model: 'beta', input: 'x' });
    expect([a.status, a.json.output_text]).toEqual([200, 'from alpha']);
    expect([b.status, b.json.output_text]).toEqual([200, 'from beta']);
    expect(chats(up.alpha!).map((r) => r.body.model)).toEqual(['alpha:latest']); // the `:latest` rule
    expect(chats(up.beta!).map((r) => r.body.model)).toEqual(['beta']);
    const none = await postJson(`${base}/responses`, { model: 'gamma', input: 'x' });
    expect(none.status).toBe(404);
    expect(none.json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it('prefers the endpoint that has the model loaded, unless its slots are taken', async () => {
    up.warm!.script({ text: 'warm', delayMs: 600 }, { text: 'warm again' });
    up.cold!.script({ text: 'cold' });
    // `cold` comes first in config; `warm` has the model in /api/ps.
    const first = postJson(`${base}/responses`, { model: 'both', input: 'x' });
    await until(() => chats(up.warm!).length === 1);
    // warm's only slot is held: the next request takes cold's free slot instead of waiting.
    const second = await postJson(`${base}/responses`, { model: 'both', input: 'x' });
    expect(second.json.output_text).toBe('cold');
    expect((await first).json.output_text).toBe('warm');
    const third = await postJson(`${base}/responses`, { model: 'both', input: 'x' });
    expect(third.json.output_text).toBe('warm again');
    expect(chats(up.cold!)).toHaveLength(1);
  });

  it('fails over to the next endpoint when one answers 503', async () => {
    up.fo1!.script({ status: 503, errorMessage: 'loading model' });
    up.fo2!.script({ text: 'from fo2' });
    const res = await postJson(`${base}/responses`, { model: 'fo', input: 'x', stream: false });
    expect(res.status).toBe(200);
    expect(res.json.output_text).toBe('from fo2');
    expect(chats(up.fo1!)).toHaveLength(1);
    expect(chats(up.fo2!)).toHaveLength(1);
  });

  it('fails over, streaming, when an endpoint refuses connections', async () => {
    up.dead1!.script({ text: 'still alive' });
    expect((await postJson(`${base}/responses`, { model: 'dead', input: 'x' })).json.output_text).toBe('still alive');
    await up.dead1!.close(); // its port now refuses; its model list is still cached
    up.dead2!.script({ deltas: ['from ', 'dead2'] });
    const { status, events } = await streamCreate(base, { model: 'dead', input: 'x' });
    expect(status).toBe(200);
    expect(events.at(-1)!.event).toBe('response.completed');
    expect(events.at(-1)!.data.response.output_text).toBe('from dead2');
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('does not retry a 4xx: it comes back as is, in the envelope, and no other endpoint is asked', async () => {
    up.four1!.script({ status: 400, errorMessage: 'this prompt is too long for the model' });
    const res = await postJson(`${base}/responses`, { model: 'four', input: 'x' });
    expect(res.status).toBe(400); // the Python router answers 500
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', message: 'this prompt is too long for the model' });
    expect(chats(up.four1!)).toHaveLength(1);
    expect(chats(up.four2!)).toHaveLength(0);
  });

  it('gives up after max_attempts, with a 502', async () => {
    const res = await postJson(`${base}/responses`, { model: 'flaky', input: 'x' });
    expect(res.status).toBe(502);
    expect(res.json.error.type).toBe('server_error');
    expect(chats(up.flaky!)).toHaveLength(3);
    // Every failed attempt freed its slot: the next request is not kept waiting for one.
    up.flaky!.script({ text: 'recovered' });
    const t0 = Date.now();
    expect((await postJson(`${base}/responses`, { model: 'flaky', input: 'x' })).json.output_text).toBe('recovered');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('retries a time-out before the first byte on the next endpoint', async () => {
    up.slow1!.script({ text: 'too late', delayMs: 3000 });
    up.slow2!.script({ text: 'in time' });
    const t0 = Date.now();
    const res = await postJson(`${base}/responses`, { model: 'slow', input: 'x' });
    expect(res.json.output_text).toBe('in time');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a stream that stalls after its first byte ends in response.failed at the time-out, never hangs', async () => {
    up.alpha!.script({ text: 'a stalled answer', chunkSize: 2, chunkDelayMs: 5000 });
    const t0 = Date.now();
    const { status, events } = await streamCreate(base, { model: 'alpha', input: 'x' });
    expect(status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(3000);
    const last = events.at(-1)!;
    expect(last.event).toBe('response.failed');
    expect(last.data.response.error.code).toBe('server_error');
    expect(events.filter((e) => e.event === 'response.output_text.delta').length).toBeGreaterThan(0);
  });

  it('unlike the Python router: tool_choice and finish-only chunks are kept', async () => {
    up.alpha!.script({ toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{}' }] });
    const tools = [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }];
    const res = await postJson(`${base}/responses`, { model: 'alpha', input: 'x', tools, tool_choice: 'required' });
    expect(res.status).toBe(200);
    expect(chats(up.alpha!).at(-1)!.body.tool_choice).toBe('required');
    // vLLM ends with a chunk that carries only finish_reason: its 'length' makes the answer incomplete.
    up.beta!.script({ text: 'cut of', finishReason: 'length' });
    const { events } = await streamCreate(base, { model: 'beta', input: 'x' });
    expect(events.at(-1)!.event).toBe('response.incomplete');
    expect(events.at(-1)!.data.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });
});

describe('when every slot is taken', () => {
  let gw: Gateway;
  let base: string;
  let s: FakeUpstream;

  beforeAll(async () => {
    s = await startFakeUpstream({ flavor: 'ollama', models: ['s:latest'] });
    gw = await startGateway({
      configYaml: configYaml([s.url], {
        api_keys: {}, max_concurrent_connections: 1, model_list_ttl_ms: 600_000, upstream_timeout_ms: 5000,
        slot_wait_ms: 300, retry_after_seconds: 7, flush_ms: 20, poll_ms: 20,
      }),
      retryIntervalMs: 10,
    });
    base = `${gw.url}/v1`;
  });
  afterAll(async () => {
    await gw?.close();
    await s?.close();
  });

  it('waits slot_wait_ms for one, then answers 429 with Retry-After; never over the limit', async () => {
    s.script({ text: 'first', delayMs: 1500 });
    const first = postJson(`${base}/responses`, { model: 's', input: 'x' });
    await until(() => chats(s).length === 1);
    const t0 = Date.now();
    const second = await postJson(`${base}/responses`, { model: 's', input: 'x' });
    const waited = Date.now() - t0;
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('7');
    expect(second.json.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(waited).toBeGreaterThanOrEqual(280);
    expect(waited).toBeLessThan(1500);
    expect((await first).json.output_text).toBe('first');
    expect(chats(s)).toHaveLength(1);
    expect(s.maxInFlight['s:latest']).toBe(1);
    // Freed when the first ended.
    expect((await postJson(`${base}/responses`, { model: 's', input: 'x' })).status).toBe(200);
  });

  it('a waiting request gets the slot as soon as it is freed', async () => {
    s.script({ text: 'first', delayMs: 150 }, { text: 'second' });
    const before = chats(s).length;
    const first = postJson(`${base}/responses`, { model: 's', input: 'x', stream: true });
    await until(() => chats(s).length === before + 1);
    const second = await postJson(`${base}/responses`, { model: 's', input: 'x' });
    expect(second.json.output_text).toBe('second');
    expect((await first).status).toBe(200);
    expect(s.maxInFlight['s:latest']).toBe(1);
  });

  it('an upstream error frees the slot', async () => {
    s.script({ status: 400, errorMessage: 'bad' }, { text: 'after the error' });
    expect((await postJson(`${base}/responses`, { model: 's', input: 'x' })).status).toBe(400);
    expect((await postJson(`${base}/responses`, { model: 's', input: 'x' })).json.output_text).toBe('after the error');
  });

  it('a client that leaves a stream (store: false) frees the slot with the aborted upstream request', async () => {
    s.script({ text: 'z'.repeat(200), chunkSize: 1, chunkDelayMs: 20 }, { text: 'next' });
    const controller = new AbortController();
    const res = await fetch(`${base}/responses`, {
      method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 's', input: 'x', stream: true, store: false }),
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('response.output_text.delta')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const upstream = chats(s).at(-1)!;
    await until(() => upstream.aborted);
    expect((await postJson(`${base}/responses`, { model: 's', input: 'x' })).json.output_text).toBe('next');
  });

  it('a background response frees its slot when it completes', async () => {
    s.script({ deltas: ['in ', 'the ', 'background'], chunkDelayMs: 20 }, { text: 'foreground' });
    const created = await postJson(`${base}/responses`, { model: 's', input: 'x', background: true });
    let got: any;
    for (let i = 0; i < 200; i++) {
      got = (await getJson(`${base}/responses/${created.json.id}`)).json;
      if (got.status === 'completed') break;
      await sleep(20);
    }
    expect(got.output_text).toBe('in the background');
    expect((await postJson(`${base}/responses`, { model: 's', input: 'x' })).json.output_text).toBe('foreground');
    expect(s.maxInFlight['s:latest']).toBe(1);
  });
});

describe('no limit: max_concurrent_connections 0', () => {
  it('lets every request through at once and writes no lease', async () => {
    const u = await startFakeUpstream({ flavor: 'ollama', models: ['free:latest'] });
    u.fallback = { text: 'ok', delayMs: 300 };
    const gw = await startGateway({ configYaml: configYaml([u.url], { api_keys: {}, max_concurrent_connections: 0, slot_wait_ms: 0 }) });
    try {
      const calls = countCalls(gw.dynamo.client);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => postJson(`${gw.url}/v1/responses`, { model: 'free', input: `n${i}`, store: false })));
      expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
      expect(u.maxInFlight['free:latest']).toBe(12); // none waited for a slot (slot_wait_ms 0 would have been a 429)
      expect(calls.byCommand).toEqual({}); // store: false and no limit: not one DynamoDB call
    } finally {
      await gw.close();
      await u.close();
    }
  });
});

describe('a limit on a gateway that owns its database (npm start on its own DATA_DIR)', () => {
  it('holds exactly, and writes no lease: the process is the only holder of its slots', async () => {
    const u = await startFakeUpstream({ flavor: 'ollama', models: ['lim:latest'] });
    u.fallback = { text: 'ok', delayMs: 150 };
    const gw = await startGateway({ configYaml: configYaml([u.url], { api_keys: {}, max_concurrent_connections: 3, slot_wait_ms: 10_000 }) });
    try {
      const calls = countCalls(gw.dynamo.client);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => postJson(`${gw.url}/v1/responses`, { model: 'lim', input: `n${i}`, store: false })));
      expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
      expect(u.maxInFlight['lim:latest']).toBe(3);
      expect(calls.byCommand).toEqual({}); // store: false, slots in the process: not one DynamoDB call
    } finally {
      await gw.close();
      await u.close();
    }
  });
});

describe('two gateway processes sharing one DynamoDB', () => {
  const LIMIT = 2;
  const LEASE_MS = 2400;
  let dyn: LocalDynamo;
  let gw: Gateway;
  let child: ChildProcess;
  let childBase: string;
  let childLog = '';
  let tmp: string;
  let p: FakeUpstream;
  let q: FakeUpstream;

  beforeAll(async () => {
    [p, q] = await Promise.all([
      startFakeUpstream({ flavor: 'ollama', models: ['c:latest', 'k:latest'] }),
      startFakeUpstream({ flavor: 'ollama', models: ['c:latest'] }),
    ]);
    p.fallback = { text: 'ok', delayMs: 100 };
    q.fallback = { text: 'ok', delayMs: 100 };
    dyn = await startDynalite();
    const yaml = configYaml([p.url, q.url], {
      api_keys: {}, max_concurrent_connections: LIMIT, model_list_ttl_ms: 600_000, upstream_timeout_ms: 30_000,
      slot_wait_ms: 30_000, slot_lease_ms: LEASE_MS, sweep_interval_ms: 3_600_000,
    });
    gw = await startGateway({ configYaml: yaml, dynamoEndpoint: dyn.endpoint });
    tmp = mkdtempSync(join(tmpdir(), 'routing-'));
    writeFileSync(join(tmp, 'config.yaml'), yaml);
    // Another process, as another Lambda instance: the same code, the same table.
    child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/main.ts'], {
      cwd: REPO,
      env: { ...process.env, PORT: '0', DYNAMODB_ENDPOINT: dyn.endpoint, NOMYO_ROUTER_CONFIG_PATH: join(tmp, 'config.yaml'), DATA_DIR: join(tmp, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => { childLog += d.toString(); });
    childBase = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the second gateway did not start:\n${childLog}`)), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        childLog += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(childLog);
        if (m) { clearTimeout(timer); resolve(m[1]!); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the second gateway exited (${code}):\n${childLog}`)); });
    });
  }, 30_000);
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    await gw?.close();
    await Promise.all([p?.close(), q?.close()]);
    await dyn?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it(`50 concurrent requests across both processes: never more than ${LIMIT} per endpoint-model, all answered`, async () => {
    const bases = [`${gw.url}/v1`, childBase];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => postJson(`${bases[i % 2]}/responses`, { model: 'c', input: `n${i}`, store: false })));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(chats(p, 'c:latest').length + chats(q, 'c:latest').length).toBe(50);
    expect(p.maxInFlight['c:latest']).toBeLessThanOrEqual(LIMIT);
    expect(q.maxInFlight['c:latest']).toBeLessThanOrEqual(LIMIT);
    // The limit was reached, not avoided: both processes' requests ran side by side.
    expect(p.maxInFlight['c:latest']! + q.maxInFlight['c:latest']!).toBeGreaterThan(LIMIT);
  }, 60_000);

  it("a killed holder's slots are reclaimed when their leases expire", async () => {
    p.script({ hang: true }, { hang: true });
    // The child takes both of k's slots and hangs on them.
    const held = [0, 1].map(() => postJson(`${childBase}/responses`, { model: 'k', input: 'hold' }).catch(() => null));
    await until(() => chats(p, 'k:latest').length === LIMIT);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await Promise.all(held);
    // Its leases were renewed every LEASE_MS/3 until the kill: they expire 2/3 LEASE_MS..LEASE_MS later.
    const t0 = Date.now();
    const res = await postJson(`${gw.url}/v1/responses`, { model: 'k', input: 'after' });
    const waited = Date.now() - t0;
    expect(res.status).toBe(200);
    expect(res.json.output_text).toBe('ok');
    expect(waited).toBeGreaterThanOrEqual(LEASE_MS / 4); // it did wait for the expiry (slack for late timers)
    expect(waited).toBeLessThan(LEASE_MS + 2000);
    expect(p.maxInFlight['k:latest']).toBeLessThanOrEqual(LIMIT);
  }, 30_000);
});
