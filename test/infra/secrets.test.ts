// shared/adapters/secrets.ts against a loopback server that speaks SSM's JSON protocol
// (AmazonSSM.GetParameters), signed with SigV4 as the functions sign it in AWS.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSecretParameters, secretParameterMap, withSecretParameters } from '../../shared/adapters/secrets.ts';
import { parseConfig } from '../../shared/config-file.ts';
import { startFakeSsm, type FakeSsm } from '../helpers/fake-ssm.ts';

let fake: FakeSsm;
let stored: Map<string, string>;
let calls: FakeSsm['calls'];
let ssm: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };

beforeAll(async () => {
  fake = await startFakeSsm();
  ({ stored, calls } = fake);
  // What the functions would use in AWS (their region, their role's credentials), pointed here.
  ssm = { endpoint: fake.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };
});

afterAll(() => fake.close());

beforeEach(() => {
  stored.clear();
  calls.length = 0;
});

describe('loadSecretParameters', () => {
  it('reads SecureStrings with decryption, in batches of 10', async () => {
    const map: Record<string, string> = {};
    for (let i = 0; i < 23; i++) {
      stored.set(`/gateway/key-${i}`, `value-${i}`);
      map[`KEY_${i}`] = `/gateway/key-${i}`;
    }
    const out = await loadSecretParameters(map, ssm);
    expect(out).toEqual(Object.fromEntries(Array.from({ length: 23 }, (_, i) => [`KEY_${i}`, `value-${i}`])));
    expect(calls.map((c) => c.body.Names.length).sort((a, b) => a - b)).toEqual([3, 10, 10]);
    for (const c of calls) {
      expect(c.target).toBe('AmazonSSM.GetParameters');
      expect(c.body.WithDecryption).toBe(true);
      expect(c.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/ssm\/aws4_request/);
    }
  });

  it('asks once for a parameter two variables share, and accepts ARNs', async () => {
    const arn = 'arn:aws:ssm:eu-west-1:123456789012:parameter/shared/key';
    stored.set('/gateway/openai', 'sk-1');
    stored.set(arn, 'sk-2');
    const out = await loadSecretParameters({ A: '/gateway/openai', B: '/gateway/openai', C: arn }, ssm);
    expect(out).toEqual({ A: 'sk-1', B: 'sk-1', C: 'sk-2' });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body.Names).toEqual(['/gateway/openai', arn]);
  });

  it('fails loudly, naming what is missing, instead of running without keys', async () => {
    stored.set('/gateway/present', 'v');
    await expect(loadSecretParameters({ A: '/gateway/present', B: '/gateway/missing' }, ssm)).rejects.toThrow(/\/gateway\/missing/);
  });

  it('gives up on an SSM that never answers, instead of holding the cold start until Lambda\'s timeout', async () => {
    const held: IncomingMessage[] = [];
    const hung = createServer((req) => void held.push(req)); // reads the call, never answers
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/`;
      await expect(loadSecretParameters({ A: '/gateway/a' }, { ...ssm, endpoint, timeoutMs: 300 })).rejects.toThrow('AmazonSSM.GetParameters did not answer within 300 ms');
      expect(held).toHaveLength(1);
    } finally {
      hung.closeAllConnections();
      await new Promise((r) => hung.close(r));
    }
  });

  it('makes no call when there is nothing to read', async () => {
    expect(await loadSecretParameters({}, ssm)).toEqual({});
    expect(calls).toHaveLength(0);
  });
});

describe('withSecretParameters', () => {
  it('feeds the config\'s ${NAME} expansion from SECRET_PARAMETERS', async () => {
    stored.set('/gateway/openai-api-key', 'sk-live');
    const env = { SECRET_PARAMETERS: JSON.stringify({ OPENAI_API_KEY: '/gateway/openai-api-key' }), OTHER: 'x' };
    const merged = await withSecretParameters(env, ssm);
    expect(merged).toEqual({ ...env, OPENAI_API_KEY: 'sk-live' });
    expect(env).not.toHaveProperty('OPENAI_API_KEY'); // the input is not modified
    const yaml = JSON.stringify({ endpoints: ['https://api.openai.com/v1'], api_keys: { 'https://api.openai.com/v1': '${OPENAI_API_KEY}' } });
    expect(parseConfig(yaml, merged).endpoints[0]).toMatchObject({ apiKey: 'sk-live' });
  });

  it('leaves the environment as it is without SECRET_PARAMETERS', async () => {
    expect(await withSecretParameters({ A: '1' }, ssm)).toEqual({ A: '1' });
    expect(calls).toHaveLength(0);
  });

  it('rejects a malformed SECRET_PARAMETERS', () => {
    expect(secretParameterMap(undefined)).toEqual({});
    expect(() => secretParameterMap('["x"]')).toThrow(/SECRET_PARAMETERS/);
    expect(() => secretParameterMap('{"A": 1}')).toThrow(/SECRET_PARAMETERS/);
  });
});
