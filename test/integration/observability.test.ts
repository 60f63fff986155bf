// What an operator sees of each request (shared/log.ts, shared/metrics.ts, functions/api/request-record.ts):
// one structured log line per request, and CloudWatch metrics as EMF lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, sseEvents, startSystem, type System } from '../helpers/harness.ts';
import { logLines, metricLines, type MetricLine } from '../helpers/log-lines.ts';

let sys: System;
const alice = { authorization: 'Bearer key-alice' };

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [{ flavor: 'ollama', models: ['m:latest'] }, { flavor: 'vllm', models: ['broken'] }],
    extraConfig: 'router_api_keys:\n  alice: key-alice\nmax_concurrent_connections: 1\nslot_wait_ms: 100\nmax_attempts: 1',
  });
  sys.upstreams[1]!.fallback = { status: 500, errorMessage: 'down' };
});
afterAll(() => sys.close());

const metric = (lines: MetricLine[], name: string): number[] => lines.flatMap((l) => (l[name] === undefined ? [] : [l[name]].flat() as number[]));

describe('one log line per request', () => {
  it('JSON: who, what, how it was answered, how long', async () => {
    sys.upstreams[0]!.script({ text: 'hello', usage: { prompt: 7, completion: 3 } });
    let res!: Awaited<ReturnType<typeof postJson>>;
    const lines = await logLines(async () => { res = await postJson(`${sys.base}/responses`, { model: 'm', input: 'hi', nomyo: { cache: true } }, alice); });
    const requests = lines.filter((l) => l.message === 'request');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      level: 'INFO', requestId: expect.any(String), principal: 'alice', method: 'POST', path: '/v1/responses', status: 200,
      durationMs: expect.any(Number), model: 'm', endpoint: sys.upstreams[0]!.url, inputTokens: 7, outputTokens: 3, cacheHit: false,
      responseStatus: 'completed',
    });
    expect(res.status).toBe(200);
  });

  it('a stream: its time to the first token and the tokens of its terminal event, written when it ends', async () => {
    sys.upstreams[0]!.script({ deltas: ['a', 'b', 'c'], usage: { prompt: 4, completion: 3 } });
    const lines = await logLines(async () => {
      const res = await fetch(`${sys.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json', ...alice }, body: JSON.stringify({ model: 'm', input: 'hi', stream: true }) });
      sseEvents(await res.text());
      await new Promise((r) => setTimeout(r, 50)); // the line is written after the body ended
    });
    expect(lines.filter((l) => l.message === 'request')).toEqual([expect.objectContaining({
      status: 200, stream: true, model: 'm', firstTokenMs: expect.any(Number), inputTokens: 4, outputTokens: 3, responseStatus: 'completed',
    })]);
  });
});

describe('metrics', () => {
  it('requests, latency, time to first token, tokens, cache hits and misses', async () => {
    sys.upstreams[0]!.script({ deltas: ['x', 'y'], usage: { prompt: 5, completion: 2 } });
    const emf = await metricLines(async () => {
      const res = await fetch(`${sys.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json', ...alice }, body: JSON.stringify({ model: 'm', input: 'metrics', stream: true, nomyo: { cache: true } }) });
      sseEvents(await res.text());
      await postJson(`${sys.base}/responses`, { model: 'm', input: 'metrics', nomyo: { cache: true } }, alice); // a hit
      await new Promise((r) => setTimeout(r, 50));
    });
    expect(emf.every((l) => (l._aws.CloudWatchMetrics[0] as any).Namespace === 'ResponsesGateway' && l.service === 'responses-gateway')).toBe(true);
    expect(metric(emf, 'Requests').reduce((a, b) => a + b, 0)).toBe(2);
    expect(metric(emf, 'Latency')).toHaveLength(2);
    expect(metric(emf, 'TimeToFirstToken').length).toBeGreaterThanOrEqual(1);
    expect(metric(emf, 'InputTokens')).toEqual([5, 5]);
    expect(metric(emf, 'OutputTokens')).toEqual([2, 2]);
    expect([metric(emf, 'CacheMisses'), metric(emf, 'CacheHits')]).toEqual([[1], [1]]);
  });

  it('errors, upstream failures by endpoint, slot waits and 429s', async () => {
    sys.upstreams[0]!.script({ text: 'slow', delayMs: 400 });
    const emf = await metricLines(async () => {
      const failed = await postJson(`${sys.base}/responses`, { model: 'broken', input: 'x' }, alice);
      expect(failed.status).toBe(502);
      const slow = postJson(`${sys.base}/responses`, { model: 'm', input: 'first' }, alice);
      await new Promise((r) => setTimeout(r, 100));
      const refused = await postJson(`${sys.base}/responses`, { model: 'm', input: 'second' }, alice);
      expect(refused.status).toBe(429);
      await slow;
    });
    expect(metric(emf, 'Errors').reduce((a, b) => a + b, 0)).toBe(1);
    expect(metric(emf, 'ClientErrors').reduce((a, b) => a + b, 0)).toBe(1);
    expect(emf.filter((l) => l.UpstreamFailures !== undefined).map((l) => l.Endpoint)).toEqual([sys.upstreams[1]!.url]);
    expect(metric(emf, 'SlotWaits').reduce((a, b) => a + b, 0)).toBe(1);
    expect(metric(emf, 'SlotRejections').reduce((a, b) => a + b, 0)).toBe(1);
  });
});
