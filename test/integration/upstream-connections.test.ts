// Keep-alive to the upstreams (issue 6): a call that read its answer to the end leaves its
// connection in the pool for the next one. Each flavor gets its own system (one gateway per process
// at a time: the handler's services are the process's).
import { describe, expect, it } from 'vitest';
import { postJson, sseEvents, startSystem } from '../helpers/harness.ts';

describe('upstream connections', () => {
  it.each(['ollama', 'vllm', 'openai'] as const)('%s: streams that ran to their end leave the connection for the next call', async (flavor) => {
    // Model lists read once (not refreshed beside every call): only the calls use connections.
    const own = await startSystem({ upstreams: [{ flavor, models: ['m'] }], extraConfig: 'model_list_ttl_ms: 600000' });
    try {
      const u = own.upstreams[0]!;
      const stream = async () => {
        const res = await fetch(`${own.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', input: 'x', stream: true, store: false }) });
        expect(sseEvents(await res.text()).at(-1)!.data.type).toBe('response.completed');
      };
      await stream(); // the model list and this stream may open the pool's connections
      await new Promise((r) => setTimeout(r, 50)); // the drained socket is back in the pool
      const before = u.connections;
      for (let i = 0; i < 5; i++) {
        await stream();
        await postJson(`${own.base}/responses`, { model: 'm', input: 'x', store: false });
      }
      // A socket destroyed after each stream would have meant a new connection per call.
      expect(u.connections - before).toBe(0);
    } finally {
      await own.close();
    }
  });
});

// What reaches the upstream: the endpoint's API key, credentials written in its URL, its Host.
describe('upstream request headers', () => {
  it.each(['vllm', 'openai'] as const)('%s: the endpoint API key goes upstream as a Bearer token, with its Host and body length', async (flavor) => {
    const own = await startSystem({ upstreams: [{ flavor, models: ['m'], apiKey: 'sk-up' }] });
    try {
      const u = own.upstreams[0]!;
      const ok = await postJson(`${own.base}/responses`, { model: 'm', input: 'x', store: false });
      expect(ok.status).toBe(200);
      const call = u.requests.find((r) => r.method === 'POST')!;
      expect(call.headers.authorization).toBe('Bearer sk-up');
      expect(call.headers.host).toBe(new URL(u.url).host);
      expect(call.headers['content-type']).toBe('application/json');
      expect(Number(call.headers['content-length'])).toBe(Buffer.byteLength(call.rawBody));
    } finally {
      await own.close();
    }
  });

  it('credentials in an endpoint URL go upstream as Basic auth, not in the Host', async () => {
    const own = await startSystem({
      upstreams: [{ flavor: 'vllm', models: ['m'] }],
      endpointLine: (u) => `"${u.url.replace('http://', 'http://us%40er:p%3Ass@')}"`,
    });
    try {
      const u = own.upstreams[0]!;
      expect((await postJson(`${own.base}/responses`, { model: 'm', input: 'x', store: false })).status).toBe(200);
      const call = u.requests.find((r) => r.method === 'POST')!;
      expect(call.headers.authorization).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
      expect(call.headers.host).toBe(new URL(u.url).host);
    } finally {
      await own.close();
    }
  });

  it('credentials with malformed percent-encoding (%zz) go upstream as written, not as a 500', async () => {
    const own = await startSystem({
      upstreams: [{ flavor: 'vllm', models: ['m'] }],
      endpointLine: (u) => `"${u.url.replace('http://', 'http://u:%zz@')}"`,
    });
    try {
      const u = own.upstreams[0]!;
      expect((await postJson(`${own.base}/responses`, { model: 'm', input: 'x', store: false })).status).toBe(200);
      const call = u.requests.find((r) => r.method === 'POST')!;
      expect(call.headers.authorization).toBe(`Basic ${Buffer.from('u:%zz').toString('base64')}`);
    } finally {
      await own.close();
    }
  });
});
