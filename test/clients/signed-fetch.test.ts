// The SigV4-signing fetch against a local server that verifies signatures the way a Function URL
// with AWS_IAM auth does: the openai SDK's plain, streaming and retried requests pass; tampered,
// expired, wrongly keyed and unsigned requests get 403. Credentials are static test ones, never
// the environment's.
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSignedFetch, regionFromFunctionUrl } from '../../shared/client/index.ts';
import {
  SIGNATURE_MISMATCH, TEST_CREDENTIALS, TEST_REGION, startSigV4Server, type SeenRequest, type SigV4Server,
} from '../helpers/sigv4-server.ts';

let server: SigV4Server;
beforeAll(async () => { server = await startSigV4Server(); });
afterAll(() => server.close());
afterEach(() => {
  server.clockSkewMs = 0;
  server.failNext(0);
  vi.unstubAllEnvs();
});

const signedFetch = (opts: Parameters<typeof createSignedFetch>[0] = {}) =>
  createSignedFetch({ credentials: TEST_CREDENTIALS, region: TEST_REGION, ...opts });

const sdk = (fetch: typeof globalThis.fetch, maxRetries = 0) =>
  new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', fetch, maxRetries });

/** The requests the server receives while `run` runs. */
async function seenDuring(run: () => Promise<unknown>): Promise<SeenRequest[]> {
  const from = server.requests.length;
  await run();
  return server.requests.slice(from);
}

const signedHeadersOf = (r: SeenRequest) => /SignedHeaders=([^,]+)/.exec(r.headers.authorization ?? '')?.[1]?.split(';');

describe('signed fetch with the openai SDK', () => {
  it('responses.create: signed with SigV4 in place of the Bearer key, and verified', async () => {
    let res!: OpenAI.Responses.Response;
    const [req] = await seenDuring(async () => {
      res = await sdk(signedFetch()).responses.create({ model: 'm', input: 'hello' });
    });
    expect(res.status).toBe('completed');
    expect(res.output_text).toBe('You said: hello');

    expect(req!.rejected).toBeUndefined();
    expect(req!.headers.authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/\\d{8}/${TEST_REGION}/lambda/aws4_request, `),
    );
    expect(req!.headers['x-amz-security-token']).toBe(TEST_CREDENTIALS.sessionToken);
    expect(signedHeadersOf(req!)).toEqual(expect.arrayContaining([
      'content-type', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token', 'x-stainless-retry-count',
    ]));
    expect(signedHeadersOf(req!)).not.toContain('user-agent');
  });

  it('responses.stream(): the SSE response passes through and accumulates', async () => {
    // Credentials as a provider, the way the default chain supplies them.
    const stream = sdk(signedFetch({ credentials: async () => TEST_CREDENTIALS })).responses.stream({ model: 'm', input: 'stream' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('You said: stream');
    expect(deltas.length).toBe(2);
    expect(server.requests.at(-1)).toMatchObject({ rejected: undefined, status: 200 });
  });

  it('SDK retries: each attempt is one fetch call, one request and a fresh valid signature', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => { calls++; return fetch(input, init); };
    server.failNext(2);
    let res!: OpenAI.Responses.Response;
    const seen = await seenDuring(async () => {
      res = await sdk(signedFetch({ fetch: counting }), 2).responses.create({ model: 'm', input: 'retry' });
    });
    expect(res.output_text).toBe('You said: retry');
    expect(calls).toBe(3);
    expect(seen.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(seen.map((r) => r.rejected)).toEqual([undefined, undefined, undefined]);
    expect(seen.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1', '2']);
    expect(new Set(seen.map((r) => r.signature)).size).toBe(3);
    expect(new Set(seen.map((r) => r.body)).size).toBe(1);
  });

  it('the signer never retries by itself: a failed POST is sent exactly once', async () => {
    server.failNext(1);
    const seen = await seenDuring(() =>
      expect(sdk(signedFetch()).responses.create({ model: 'm', input: 'once' })).rejects.toMatchObject({ status: 500 }));
    expect(seen).toHaveLength(1);
  });

  it('without explicit credentials, uses the default provider chain (here: the test keys put in env vars)', async () => {
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_ACCESS_KEY_ID', TEST_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', TEST_CREDENTIALS.sessionToken!);
    const res = await sdk(createSignedFetch({ region: TEST_REGION })).responses.create({ model: 'm', input: 'chain' });
    expect(res.output_text).toBe('You said: chain');
  });

  it('a wrong secret key gets 403 through the SDK', async () => {
    const wrong = signedFetch({ credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'not-the-secret' } });
    await expect(sdk(wrong).responses.create({ model: 'm', input: 'x' })).rejects.toMatchObject({ status: 403 });
    expect(server.requests.at(-1)!.rejected).toBe('signature mismatch');
  });
});

describe('tampered requests get 403', () => {
  interface Sent { url: URL; headers: Record<string, string>; body: BodyInit }
  /** A signed fetch whose signed request is altered on its way to the server. */
  const tamperedFetch = (mutate: (sent: Sent) => void) =>
    signedFetch({
      fetch: (input, init) => {
        const sent: Sent = { url: new URL(String(input)), headers: { ...(init!.headers as Record<string, string>) }, body: init!.body! };
        mutate(sent);
        return fetch(sent.url, { ...init, headers: sent.headers, body: sent.body });
      },
    });
  const post = (f: typeof fetch) => f(`${server.url}/v1/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', input: 'hi' }),
  });
  const sha256 = async (s: string) => Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s))).toString('hex');

  it('control: the same request untampered passes', async () => {
    const res = await post(tamperedFetch(() => {}));
    expect(res.status).toBe(200);
  });

  it.each<[string, (sent: Sent) => void | Promise<void>, string]>([
    ['body changed after signing', (s) => { s.body = JSON.stringify({ model: 'm', input: 'HI' }); }, 'x-amz-content-sha256 missing or not the hash of the body'],
    ['path changed', (s) => { s.url.pathname = '/v1/responses/other'; }, 'signature mismatch'],
    ['query added', (s) => { s.url.search = '?admin=1'; }, 'signature mismatch'],
    ['signed header changed', (s) => { s.headers['content-type'] = 'text/plain'; }, 'signature mismatch'],
    ['session token dropped', (s) => { delete s.headers['x-amz-security-token']; }, 'signed header x-amz-security-token not received'],
  ])('%s', async (_name, mutate, reason) => {
    const res = await post(tamperedFetch(mutate as (s: Sent) => void));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ Message: SIGNATURE_MISMATCH });
    expect(res.headers.get('x-test-reject-reason')).toBe(reason);
  });

  it('body changed and its hash header updated to match', async () => {
    const body = JSON.stringify({ model: 'm', input: 'HI' });
    const hash = await sha256(body);
    const res = await post(tamperedFetch((s) => { s.body = body; s.headers['x-amz-content-sha256'] = hash; }));
    expect(res.status).toBe(403);
    expect(res.headers.get('x-test-reject-reason')).toBe('signature mismatch');
  });

  it('wrong secret key', async () => {
    const res = await post(signedFetch({ credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'wrong' } }));
    expect(res.status).toBe(403);
    expect(res.headers.get('x-test-reject-reason')).toBe('signature mismatch');
  });

  it('expired date (signed more than 5 minutes before the server checks it)', async () => {
    server.clockSkewMs = 6 * 60_000;
    const res = await post(signedFetch());
    expect(res.status).toBe(403);
    expect(res.headers.get('x-test-reject-reason')).toBe('signature expired or not yet valid');
  });

  it('no signature at all, or only a Bearer key', async () => {
    const unsigned = await post(fetch);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ Message: 'Forbidden' });
    const bearer = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { authorization: 'Bearer sk-x' }, body: '{}' });
    expect(bearer.status).toBe(403);
    expect(bearer.headers.get('x-test-reject-reason')).toBe('malformed Authorization header');
  });
});

describe('what gets signed', () => {
  it.each<[string, BodyInit]>([
    ['string', 'plain text'],
    ['Uint8Array', new TextEncoder().encode('bytes')],
    ['ArrayBuffer', new TextEncoder().encode('buffer').buffer as ArrayBuffer],
    ['Blob', new Blob(['blob'], { type: 'application/octet-stream' })],
    ['URLSearchParams', new URLSearchParams({ a: '1', b: 'two words' })],
    ['FormData', (() => { const f = new FormData(); f.set('file', new Blob(['data']), 'f.txt'); return f; })()],
    ['ReadableStream (buffered)', new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close(); } })],
  ])('a %s body is buffered, hashed and verifies', async (_name, body) => {
    const [req] = await seenDuring(() => signedFetch()(`${server.url}/upload`, { method: 'POST', body, duplex: 'half' } as RequestInit));
    expect(req!.rejected).toBeUndefined();
    expect(req!.status).toBe(404); // verified, then no such route
    expect(req!.body.length).toBeGreaterThan(0);
  });

  it('a GET with a query (repeated keys, escapes) and a Request object as input', async () => {
    const url = `${server.url}/v1/models?b=2&a=1&a=0&q=hello%20world&e=%F0%9F%98%80`;
    const [req] = await seenDuring(() => signedFetch()(new Request(url, { headers: { accept: 'application/json' } })));
    expect(req!.rejected).toBeUndefined();
    expect(req!.headers['x-amz-content-sha256']).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('region', () => {
  it('is parsed from a Function URL host', () => {
    expect(regionFromFunctionUrl('https://abcdefghij1234567890.lambda-url.eu-west-1.on.aws/')).toBe('eu-west-1');
    expect(regionFromFunctionUrl(new URL('https://x9.lambda-url.ap-southeast-2.on.aws/v1/responses'))).toBe('ap-southeast-2');
    expect(regionFromFunctionUrl('https://example.com/')).toBeUndefined();
    expect(regionFromFunctionUrl('https://x.lambda-url.eu-west-1.on.aws.evil.com/')).toBeUndefined();
  });

  /** The Authorization header the signer produced, without sending anything. */
  const authorizationFor = async (url: string, opts: Parameters<typeof createSignedFetch>[0] = {}) => {
    let auth = '';
    const capture: typeof fetch = async (_input, init) => {
      auth = (init!.headers as Record<string, string>).authorization!;
      return new Response('{}');
    };
    await createSignedFetch({ credentials: TEST_CREDENTIALS, fetch: capture, ...opts })(url, { method: 'POST', body: '{}' });
    return auth;
  };
  const fnUrl = 'https://abcdefghij1234567890.lambda-url.eu-central-1.on.aws/v1/responses';

  it('comes from the option first, then the Function URL host, then AWS_REGION / AWS_DEFAULT_REGION', async () => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    expect(await authorizationFor(fnUrl, { region: 'sa-east-1' })).toContain('/sa-east-1/lambda/aws4_request');
    expect(await authorizationFor(fnUrl)).toContain('/eu-central-1/lambda/aws4_request');
    expect(await authorizationFor('http://127.0.0.1:1/v1/responses')).toContain('/us-east-1/lambda/aws4_request');
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', 'us-west-2');
    expect(await authorizationFor('http://127.0.0.1:1/v1/responses')).toContain('/us-west-2/lambda/aws4_request');
  });

  it('is an explicit error when none can be found', async () => {
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    await expect(authorizationFor('http://127.0.0.1:1/')).rejects.toThrow(/no region for 127\.0\.0\.1:1/);
  });
});
