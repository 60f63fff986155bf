// What a caller is told when the model cannot be reached, and a model pulled after start (issue:
// errors name their cause). Over HTTP, with the default model-list cache (30 s).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../functions/local/gateway.ts';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { postJson } from '../helpers/harness.ts';
import { logLines } from '../helpers/log-lines.ts';

let ollama: FakeUpstream;
let gw: Gateway;
/** `npm start` on the example config with no Ollama running: its only endpoint is down. */
let alone: Gateway;
let closedPort: number;

beforeAll(async () => {
  ollama = await startFakeUpstream({ flavor: 'ollama', models: ['llama3.2:latest'] });
  const dead = await startFakeUpstream({ flavor: 'ollama' });
  closedPort = Number(new URL(dead.url).port);
  await dead.close();
  gw = await startGateway({ configYaml: `endpoints:\n  - "${ollama.url}"\n  - "http://127.0.0.1:${closedPort}"\n` });
  alone = await startGateway({ configYaml: `endpoints:\n  - "http://127.0.0.1:${closedPort}"\n` });
});
afterAll(async () => {
  await Promise.all([gw.close(), alone.close()]);
  await ollama.close();
});

describe('a model no endpoint serves', () => {
  const unreachable = () => `http://127.0.0.1:${closedPort} (could not reach upstream 127.0.0.1:${closedPort}: ECONNREFUSED)`;

  it('with no endpoint reachable: a 503 naming each and why (not a 404), and the failure is logged', async () => {
    let res!: Awaited<ReturnType<typeof postJson>>;
    const lines = await logLines(async () => { res = await postJson(`${alone.url}/v1/responses`, { model: 'llama3.2', input: 'Say hello in French' }); });
    expect(res.status).toBe(503);
    expect(res.json.error).toMatchObject({ type: 'server_error', param: 'model', code: 'endpoints_unreachable' });
    expect(res.json.error.message).toContain(unreachable());
    expect(lines.filter((l) => l.message === 'the model list of an endpoint cannot be read').map((l) => l.endpoint)).toEqual([`http://127.0.0.1:${closedPort}`]);
  });

  it('with some reachable: a 404 that still names the endpoints that could not be asked', async () => {
    const res = await postJson(`${gw.url}/v1/responses`, { model: 'qwen3', input: 'hi' });
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({ param: 'model', code: 'model_not_found' });
    expect(res.json.error.message).toContain(unreachable());
    expect(res.json.error.message).not.toContain(ollama.url);
  });

  it('a model pulled after start is served at once, not after the 30 s model-list cache', async () => {
    expect((await postJson(`${gw.url}/v1/responses`, { model: 'llama3.2', input: 'hi' })).status).toBe(200); // lists read
    ollama.models.push('qwen3:latest'); // `ollama pull qwen3`
    await new Promise((r) => setTimeout(r, 1_100)); // past the miss refresh's rate limit (1 s)
    const res = await postJson(`${gw.url}/v1/responses`, { model: 'qwen3', input: 'hi' });
    expect(res.status).toBe(200);
    expect(ollama.requests.at(-1)!.body.model).toBe('qwen3:latest');
  });
});
