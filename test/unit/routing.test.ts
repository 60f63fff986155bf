// The routing core without I/O: the chooser's ranking over a Backend port that answers from
// lists, and the router's slots and retries over the SlotStore port in memory.
import { describe, expect, it } from 'vitest';
import type { Backend, Endpoint } from '../../shared/ports.ts';
import { systemClock } from '../../shared/ports.ts';
import { EndpointChooser, Router, SlotLeases, slotKey, type Choice } from '../../shared/routing/index.ts';
import { UpstreamError } from '../../shared/ports.ts';
import { ApiError } from '../../shared/protocol/errors.ts';
import { MemorySlotStore } from '../helpers/memory-slots.ts';
import { logLines } from '../helpers/log-lines.ts';

const ep = (url: string, kind: Endpoint['kind'] = 'chat'): Endpoint => ({ url, kind });

function listBackend(models: Record<string, string[] | Error>, loaded: Record<string, string[] | null> = {}) {
  const calls: string[] = [];
  const backend = {
    async listModels(e: Endpoint) {
      calls.push(`models ${e.url}`);
      const m = models[e.url];
      if (m instanceof Error) throw m;
      return m ?? [];
    },
    async listLoaded(e: Endpoint) {
      calls.push(`loaded ${e.url}`);
      return e.url in loaded ? loaded[e.url]! : [];
    },
  } as unknown as Backend;
  return { backend, calls };
}

describe('EndpointChooser.rank (choose_endpoint)', () => {
  const a = ep('http://a'), b = ep('http://b'), c = ep('http://c');

  it('keeps the endpoints that advertise the model: loaded first, then least loaded, then config order', async () => {
    const { backend } = listBackend({ 'http://a': ['m:latest'], 'http://b': ['m:latest', 'x:latest'], 'http://c': ['m:latest'] }, { 'http://c': ['m:latest'] });
    const load: Record<string, number> = { 'http://a': 2, 'http://b': 1, 'http://c': 5 };
    const chooser = new EndpointChooser([a, b, c], backend, systemClock, { ttlMs: 60_000, loadOf: (ch) => load[ch.endpoint.url]! });
    expect((await chooser.rank('m')).map((ch) => ch.endpoint.url)).toEqual(['http://c', 'http://b', 'http://a']);
    expect((await chooser.rank('x')).map((ch) => ch.endpoint.url)).toEqual(['http://b']);
  });

  it('applies the :latest rules, and native endpoints get untagged names', async () => {
    const { backend } = listBackend({ 'http://a': ['llama3'], 'http://o/v1': ['gpt-4o'] });
    const chooser = new EndpointChooser([a, ep('http://o/v1', 'responses')], backend, systemClock, { ttlMs: 60_000 });
    expect((await chooser.rank('llama3:latest')).map((ch) => ch.model)).toEqual(['llama3']);
    expect((await chooser.rank('gpt-4o:latest')).map((ch) => ch.model)).toEqual(['gpt-4o']);
  });

  it('an endpoint without /api/ps (null) has everything it lists loaded', async () => {
    const { backend } = listBackend({ 'http://a': ['m:latest'], 'http://b': ['m:latest'] }, { 'http://b': null });
    const chooser = new EndpointChooser([a, b], backend, systemClock, { ttlMs: 60_000 });
    expect((await chooser.rank('m'))[0]!.endpoint.url).toBe('http://b');
  });

  it('404 model_not_found when every endpoint answered and none serves it', async () => {
    const { backend } = listBackend({ 'http://a': ['x:latest'], 'http://b': ['m:latest'] });
    const chooser = new EndpointChooser([a, b], backend, systemClock, { ttlMs: 60_000 });
    const err = await chooser.rank('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(404);
    expect((err as ApiError).code).toBe('model_not_found');
  });

  it('503 when no endpoint can be asked, 404 when some can: both name each endpoint that could not be asked and why; a failing endpoint is asked again only after failureTtlMs', async () => {
    const down = new UpstreamError('could not reach upstream a: ECONNREFUSED', 0, 'connect');
    const alone = new EndpointChooser([a], listBackend({ 'http://a': down }).backend, systemClock, { ttlMs: 60_000 });
    const err = await alone.rank('m').catch((e: unknown) => e) as ApiError;
    expect(err.status).toBe(503);
    expect(err.toBody().error).toMatchObject({ type: 'server_error', param: 'model', code: 'endpoints_unreachable' });
    expect(err.message).toBe("The model 'm' cannot be served: no endpoint could be reached: http://a (could not reach upstream a: ECONNREFUSED).");

    const { backend, calls } = listBackend({ 'http://a': down, 'http://b': ['m:latest'] });
    const chooser = new EndpointChooser([a, b], backend, systemClock, { ttlMs: 60_000, failureTtlMs: 60_000 });
    const missing = await chooser.rank('nope').catch((e: unknown) => e) as ApiError;
    expect([missing.status, missing.code]).toEqual([404, 'model_not_found']);
    expect(missing.message).toMatch(/These endpoints could not be asked: http:\/\/a \(could not reach upstream a: ECONNREFUSED\)\.$/);
    await chooser.rank('m');
    expect(calls.filter((x) => x === 'models http://a')).toHaveLength(1);
  });

  it('a model pulled a moment ago is served: a miss fetches the lists again at once (one fetch for many misses, at most every missRefreshMs)', async () => {
    let now = 1_000_000;
    const clock = { nowMs: () => now };
    const models: Record<string, string[]> = { 'http://a': ['m:latest'] };
    const { backend, calls } = listBackend(models);
    const chooser = new EndpointChooser([a], backend, clock, { ttlMs: 60_000, missRefreshMs: 1_000 });
    await chooser.rank('m');
    models['http://a'] = ['m:latest', 'new:latest']; // `ollama pull new`
    now += 1_000;
    const got = await Promise.all([chooser.rank('new'), chooser.rank('new'), chooser.rank('new')]);
    expect(got.map((r) => r[0]!.model)).toEqual(['new:latest', 'new:latest', 'new:latest']);
    expect(calls.filter((x) => x === 'models http://a')).toHaveLength(2);
    // Misses within missRefreshMs of a fetch do not fetch again.
    await expect(chooser.rank('ghost')).rejects.toMatchObject({ status: 404 });
    expect(calls.filter((x) => x === 'models http://a')).toHaveLength(2);
  });

  it('logs a failing model list once per change of the endpoint state, with the endpoint and the reason', async () => {
    let now = 0;
    const models: Record<string, string[] | Error> = { 'http://u:secret@a': new Error('ECONNREFUSED') };
    const { backend } = listBackend(models);
    const chooser = new EndpointChooser([ep('http://u:secret@a')], backend, { nowMs: () => now }, { ttlMs: 0, failureTtlMs: 10 });
    const lines = await logLines(async () => {
      for (let i = 0; i < 5; i++) { now += 20; await chooser.rank('m').catch(() => undefined); }
      models['http://u:secret@a'] = ['m:latest'];
      now += 20;
      await chooser.rank('m');
    });
    const about = lines.filter((l) => /model list of an endpoint/.test(l.message));
    expect(about.map((l) => [l.level, l.message, l.endpoint, l.reason])).toEqual([
      ['WARN', 'the model list of an endpoint cannot be read', 'http://***@a', 'ECONNREFUSED'],
      ['INFO', 'the model list of an endpoint can be read again', 'http://***@a', undefined],
    ]);
  });
});

function router(opts: { max?: number; slotWaitMs?: number; maxAttempts?: number; leaseMs?: number } = {}, store = new MemorySlotStore()) {
  const leases = new SlotLeases(store, systemClock, { max: opts.max ?? 1, leaseMs: opts.leaseMs ?? 30_000 });
  const r = new Router({} as EndpointChooser, leases, {
    slotWaitMs: opts.slotWaitMs ?? 1000, retryAfterSeconds: 3, maxAttempts: opts.maxAttempts ?? 3, retryBackoffMs: 1,
  });
  return { r, store, leases };
}

const choice = (url: string): Choice => ({ endpoint: ep(url), model: 'm' });
const fail = (status: number) => new UpstreamError(`HTTP ${status}`, status, 'http');

describe('Router.call (create_chat_with_retries)', () => {
  const ranked = [choice('http://a'), choice('http://b'), choice('http://c')];

  it('retries a retryable failure on the next endpoint, freeing the failed one', async () => {
    const { r, store } = router();
    const tried: string[] = [];
    const out = await r.call(ranked, async (c) => {
      tried.push(c.endpoint.url);
      if (c.endpoint.url !== 'http://c') throw fail(c.endpoint.url === 'http://a' ? 503 : 429);
      return 'ok';
    });
    expect(tried).toEqual(['http://a', 'http://b', 'http://c']);
    expect([out.value, out.choice.endpoint.url]).toEqual(['ok', 'http://c']);
    expect([...store.items.keys()]).toEqual([`${slotKey(ranked[2]!)}#0`]); // only the winner's slot is held
    await out.release();
    expect(store.items.size).toBe(0);
  });

  it('does not retry a 4xx or a non-upstream error', async () => {
    const { r, store } = router();
    for (const err of [fail(400), fail(404), new Error('bug')]) {
      let n = 0;
      await expect(r.call(ranked, async () => { n++; throw err; })).rejects.toBe(err);
      expect(n).toBe(1);
    }
    expect(store.items.size).toBe(0);
  });

  it('stops after maxAttempts, going round the endpoints again', async () => {
    const { r } = router({ maxAttempts: 5 });
    const tried: string[] = [];
    await expect(r.call(ranked.slice(0, 2), async (c) => { tried.push(c.endpoint.url); throw fail(500); })).rejects.toThrow('HTTP 500');
    expect(tried).toEqual(['http://a', 'http://b', 'http://a', 'http://b', 'http://a']);
  });

  it('never runs more than max at once; the rest wait and then all finish', async () => {
    const { r } = router({ max: 2, slotWaitMs: 10_000 });
    let now = 0, peak = 0;
    await Promise.all(Array.from({ length: 30 }, async () => {
      const out = await r.call([choice('http://a')], async () => {
        peak = Math.max(peak, ++now);
        await new Promise((res) => setTimeout(res, 5));
        now--;
        return 1;
      });
      await out.release();
    }));
    expect(peak).toBe(2);
  });

  it('429 with Retry-After after slotWaitMs when every slot stays taken', async () => {
    const { r } = router({ slotWaitMs: 100 });
    const held = await r.call([choice('http://a')], async () => 'held');
    const t0 = Date.now();
    const err = (await r.call([choice('http://a')], async () => 'never').catch((e: unknown) => e)) as ApiError;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect([err.status, err.type, err.headers['retry-after']]).toEqual([429, 'rate_limit_error', '3']);
    await held.release();
  });

  it("takes over a slot whose holder stopped renewing, and keeps a renewed one", async () => {
    const store = new MemorySlotStore();
    // Another process's lease, expired: free to take.
    store.items.set(`${slotKey(choice('http://a'))}#0`, { holder: 'dead', untilMs: Date.now() - 1 });
    const { r } = router({ slotWaitMs: 0, leaseMs: 150 }, store);
    const mine = await r.call([choice('http://a')], async () => 'mine');
    // Held for longer than a lease: the heartbeat keeps it.
    await new Promise((res) => setTimeout(res, 400));
    const other = router({ slotWaitMs: 0, leaseMs: 150 }, store).r;
    await expect(other.call([choice('http://a')], async () => 'other')).rejects.toMatchObject({ status: 429 });
    await mine.release();
    expect((await other.call([choice('http://a')], async () => 'other')).value).toBe('other');
  });
});
