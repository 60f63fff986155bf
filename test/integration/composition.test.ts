// The composition root (functions/services.ts): services are built per gateway and passed in, so
// two gateways run side by side in one process, and a failed build is retried, never kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { apiHandler } from '../../functions/api/app.ts';
import { startServer, type LocalServer } from '../../functions/local/server.ts';
import type { StreamingHandler } from '../../functions/local/lambda-runtime.ts';
import { lazy, noLauncher, servicesFromEnv } from '../../functions/services.ts';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { startFakeSsm, type FakeSsm } from '../helpers/fake-ssm.ts';
import { getJson, postJson, startSystem, type System } from '../helpers/harness.ts';
import { expectErrorLogs } from '../helpers/log-lines.ts';

describe('two gateways in one process', () => {
  let a: System;
  let b: System;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      startSystem({ upstreams: [{ flavor: 'ollama', models: ['m:latest'] }] }),
      startSystem({ upstreams: [{ flavor: 'vllm', models: ['m'] }] }),
    ]);
    a.upstreams[0]!.fallback = { text: 'from A' };
    b.upstreams[0]!.fallback = { text: 'from B' };
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  it('each serves from its own config, backends and table', async () => {
    const [ra, rb] = await Promise.all([
      postJson(`${a.base}/responses`, { model: 'm', input: 'hi' }),
      postJson(`${b.base}/responses`, { model: 'm', input: 'hi' }),
    ]);
    expect([ra.json.output_text, rb.json.output_text]).toEqual(['from A', 'from B']);
    expect((await getJson(`${a.base}/responses/${ra.json.id}`)).status).toBe(200);
    expect((await getJson(`${b.base}/responses/${ra.json.id}`)).status).toBe(404);
  });
});

describe('a Lambda whose first initialisation fails', () => {
  let dynamo: LocalDynamo;
  let upstream: FakeUpstream;
  let ssm: FakeSsm;
  let server: LocalServer;

  beforeAll(async () => {
    [dynamo, upstream, ssm] = await Promise.all([startDynalite(), startFakeUpstream({ flavor: 'vllm', models: ['m'], apiKey: 'sk-upstream' }), startFakeSsm()]);
    upstream.fallback = { text: 'served' };
    // The API Lambda's own way of building its services (handler.ts), from its environment: the
    // upstream key is an SSM parameter that does not exist yet, so its first cold start fails.
    Object.assign(process.env, { AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    const env = {
      ...process.env,
      CONFIG_JSON: JSON.stringify({ endpoints: [{ url: upstream.url, type: 'chat' }], api_keys: { [upstream.url]: '${UPSTREAM_KEY}' } }),
      SECRET_PARAMETERS: JSON.stringify({ UPSTREAM_KEY: '/gateway/upstream-key' }),
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      DYNAMODB_ENDPOINT: dynamo.endpoint, RESPONSES_TABLE: dynamo.tables.responses, CACHE_TABLE: dynamo.tables.cache,
    };
    server = await startServer({ loadHandler: async () => apiHandler(lazy(() => servicesFromEnv(env, noLauncher))) as unknown as StreamingHandler });
  });
  afterAll(async () => {
    await server.close();
    await Promise.all([dynamo.close(), upstream.close(), ssm.close()]);
  });

  it('answers 500 while its secret cannot be read, then serves once it can: the failure is not kept', async () => {
    expectErrorLogs(/secret parameters not found or not readable: \/gateway\/upstream-key/);
    for (let i = 0; i < 2; i++) {
      const res = await getJson(`${server.url}/health`);
      expect(res.status).toBe(500);
      expect(res.json.error).toMatchObject({ type: 'server_error', code: 'server_error' });
    }
    ssm.stored.set('/gateway/upstream-key', 'sk-upstream'); // the operator puts the parameter
    expect((await getJson(`${server.url}/health`)).status).toBe(200);
    const res = await postJson(`${server.url}/v1/responses`, { model: 'm', input: 'hi' });
    expect(res.status).toBe(200);
    expect(res.json.output_text).toBe('served');
    expect(ssm.calls).toHaveLength(3); // read again by each try, then kept
  });
});
