// No secret in logs or answers (issue 14, point 5). Two raw upstreams that echo the
// Authorization header they received into everything they send back (error bodies, in-stream
// errors): one with an API key from `api_keys`, one with credentials in its URL (sent as Basic
// auth). What they echo must reach neither a client, nor a stored response, nor the log; URLs are
// printed with their credentials masked; cache statistics are per principal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../functions/local/gateway.ts';
import { logLines } from '../helpers/log-lines.ts';
import { startChildGateway, startRawUpstream, waitFor, type RawUpstream } from './system.ts';

const API_KEY = 'sk-operator-0123456789abcdef';
const URL_PASSWORD = 'p4ssw0rd-of-the-operator';
const BASIC = Buffer.from(`gw:${URL_PASSWORD}`).toString('base64');
const ALICE = 'alice-key-0123456789';
const BOB = 'bob-key-0123456789';
const OPS = 'ops-key-0123456789';
const SECRETS = [API_KEY, URL_PASSWORD, BASIC, ALICE, BOB, OPS];

let keyed: RawUpstream; // model keyed-model, api_keys
let userinfo: RawUpstream; // model url-model, credentials in its URL
let gw: Gateway;
let base: string;
let userinfoUrl: string;
const dirs: string[] = [];

/** What an upstream that echoes its caller's credentials answers. */
type Echo = 'http-400' | 'http-500' | 'in-stream';
let echo: Echo = 'http-400';

function echoing(raw: RawUpstream) {
  raw.handler = (req, res, body) => {
    const said = `you sent Authorization: ${req.headers.authorization} (and the key ${API_KEY}, and ${ALICE}, as "${JSON.stringify(ALICE).slice(1, -1)}")`;
    if (echo === 'in-stream' && body?.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' } }] })}\n\n`);
      res.end(`data: ${JSON.stringify({ error: { message: said } })}\n\n`);
      return;
    }
    res.writeHead(echo === 'http-500' ? 500 : 400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: said } }));
  };
}

const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

async function post(path: string, body: unknown, key = ALICE) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: auth(key), body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

function expectNoSecret(text: string, where: string) {
  for (const s of SECRETS) expect(text.includes(s), `${where} holds a secret (${s.slice(0, 6)}...): ${text.slice(0, 500)}`).toBe(false);
}

beforeAll(async () => {
  [keyed, userinfo] = await Promise.all([startRawUpstream(['keyed-model']), startRawUpstream(['url-model'])]);
  echoing(keyed);
  echoing(userinfo);
  userinfoUrl = userinfo.url.replace('http://', `http://gw:${URL_PASSWORD}@`);
  gw = await startGateway({
    configYaml: [
      'endpoints:',
      `  - "${keyed.url}"`,
      `  - "${userinfoUrl}"`,
      'api_keys:',
      `  "${keyed.url}": "${API_KEY}"`,
      'router_api_keys:',
      `  alice: "${ALICE}"`,
      `  bob: "${BOB}"`,
      `  ops: "${OPS}"`,
      'admin_principals: [ops]',
      'model_list_ttl_ms: 600000',
      'max_attempts: 2',
      'retry_backoff_ms: 1',
      'flush_ms: 20',
      'poll_ms: 20',
      'sweep_interval_ms: 3600000',
    ].join('\n'),
    retryIntervalMs: 10,
  });
  base = `${gw.url}/v1`;
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await Promise.all([keyed?.close(), userinfo?.close()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 30_000);

describe('an upstream that echoes its credentials', () => {
  for (const model of ['keyed-model', 'url-model']) {
    it(`${model}: its 4xx message reaches the client scrubbed, and the log holds no secret`, async () => {
      echo = 'http-400';
      let answer = { status: 0, text: '' };
      const lines = await logLines(async () => { answer = await post('/responses', { model, input: 'x' }); });
      expect(answer.status).toBe(400);
      expect(answer.text).toMatch(/you sent Authorization: (Bearer|Basic) \[redacted\]/);
      expectNoSecret(answer.text, 'the answer');
      expectNoSecret(JSON.stringify(lines), 'the log');
    });

    it(`${model}: a 5xx is retried with a warning that names the endpoint masked; the 502 is scrubbed`, async () => {
      echo = 'http-500';
      let answer = { status: 0, text: '' };
      const lines = await logLines(async () => { answer = await post('/responses', { model, input: 'x' }); });
      expect(answer.status).toBe(502);
      expectNoSecret(answer.text, 'the answer');
      const warnings = lines.filter((l) => l.message === 'upstream failed before answering; retrying');
      expect(warnings.length).toBeGreaterThan(0);
      expectNoSecret(JSON.stringify(lines), 'the log');
      if (model === 'url-model') expect(warnings[0]!.endpoint).toBe(userinfo.url.replace('http://', 'http://***@'));
    });
  }

  it('an in-stream error: the stream, the stored response and the log are scrubbed', async () => {
    echo = 'in-stream';
    let text = '';
    const lines = await logLines(async () => {
      const res = await fetch(`${base}/responses`, { method: 'POST', headers: auth(ALICE), body: JSON.stringify({ model: 'keyed-model', input: 'x', stream: true }) });
      text = await res.text();
    });
    expect(text).toMatch(/response\.failed/);
    expect(text).toMatch(/\[redacted\]/);
    expectNoSecret(text, 'the stream');
    expectNoSecret(JSON.stringify(lines), 'the log');
    const id = /"id":"(resp_[0-9a-f]+)"/.exec(text)![1]!;
    const stored = await (await fetch(`${base}/responses/${id}`, { headers: auth(ALICE) })).text();
    expect(stored).toMatch(/"status":"failed"/);
    expectNoSecret(stored, 'the stored response');
  });

  it('a background job: its stored error is scrubbed', async () => {
    echo = 'http-400';
    const queued = await post('/responses', { model: 'url-model', input: 'x', background: true });
    expect(queued.status).toBe(200);
    const id = JSON.parse(queued.text).id as string;
    const read = async () => (await fetch(`${base}/responses/${id}`, { headers: auth(ALICE) })).text();
    const stored = await waitFor(read, (t) => /"status":"(failed|completed)"/.test(t), 10_000);
    expect(stored).toMatch(/"status":"failed"/);
    expect(stored).toMatch(/\[redacted\]/);
    expectNoSecret(stored, 'the stored error');
  });
});

describe('GET /v1/cache/stats', () => {
  it('shows each principal its own counts, and the totals only to an admin principal', async () => {
    const stats = async (key: string) => (await (await fetch(`${base}/cache/stats`, { headers: auth(key) })).json()) as Record<string, any>;
    const [alice0, bob0, ops0] = await Promise.all([stats(ALICE), stats(BOB), stats(OPS)]);
    echo = 'http-400';
    // Two misses for alice (the upstream refuses: nothing is cached), none for bob.
    await post('/responses', { model: 'keyed-model', input: 'count me', nomyo: { cache: true } });
    await post('/responses', { model: 'keyed-model', input: 'count me', nomyo: { cache: true } });
    const [alice1, bob1, ops1] = await Promise.all([stats(ALICE), stats(BOB), stats(OPS)]);
    expect(alice1.misses - alice0.misses).toBe(2);
    expect(bob1).toEqual(bob0);
    expect('total' in alice1 || 'total' in bob1).toBe(false);
    expect(ops1.total.misses - ops0.total.misses).toBe(2);
    expect(ops1.misses).toBe(ops0.misses); // the admin's own counts are its own
  });
});

describe('URLs are printed with their credentials masked', () => {
  it('in the startup log of npm start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    dirs.push(dir);
    const configPath = join(dir, 'config.yaml');
    writeFileSync(configPath, `endpoints:\n  - "${userinfoUrl}"\nmodel_list_ttl_ms: 600000\nrouter_api_key: "${OPS}"\n`);
    const child = await startChildGateway({ configPath, dataDir: join(dir, 'data') });
    try {
      const out = child.stdout() + child.stderr();
      expect(out).toContain(userinfo.url.replace('http://', 'http://***@'));
      expectNoSecret(out, 'the startup log');
    } finally {
      await child.kill('SIGKILL');
    }
  }, 60_000);
});
