// A stand-in for a Lambda Function URL with AWS_IAM auth, on 127.0.0.1: every request's SigV4
// signature is recomputed with @smithy/signature-v4 from what actually arrived (method, path,
// query, the listed signed headers, the body) using known test credentials, and compared. Bad or
// missing signatures get 403 as Lambda answers them; good ones reach a tiny Responses API.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

export const TEST_REGION = 'eu-west-1';
/** Temporary credentials (with a session token), as a role session would have. Never real. */
export const TEST_CREDENTIALS: AwsCredentialIdentity = {
  accessKeyId: 'ASIATESTTESTTESTTEST',
  secretAccessKey: 'test/secret/key/0123456789abcdefghijklmn',
  sessionToken: 'test-session-token',
};

export const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const MAX_SKEW_MS = 5 * 60_000;

export interface SeenRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Why the signature was rejected; undefined when it verified. */
  rejected?: string;
  /** The `Signature=` of the Authorization header, if any. */
  signature?: string;
  status: number;
}

export interface SigV4Server {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** Every request received, in order. */
  requests: SeenRequest[];
  /** The next `n` verified requests answer 500 (with `retry-after-ms`), to exercise client retries. */
  failNext(n: number): void;
  /** Added to the server's clock when checking x-amz-date (simulates an old signature). */
  clockSkewMs: number;
  close(): Promise<void>;
}

export async function startSigV4Server(
  opts: { credentials?: AwsCredentialIdentity; region?: string; service?: string } = {},
): Promise<SigV4Server> {
  const credentials = opts.credentials ?? TEST_CREDENTIALS;
  const region = opts.region ?? TEST_REGION;
  const service = opts.service ?? 'lambda';
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256 });
  let failures = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const seen: SeenRequest = {
      method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString('utf8'), status: 0,
      signature: /Signature=([0-9a-f]+)/.exec(req.headers.authorization ?? '')?.[1],
    };
    server.requests.push(seen);
    const reply = (status: number, headers: Record<string, string>, text: string): void => {
      seen.status = status;
      res.writeHead(status, headers).end(text);
    };

    seen.rejected = await verify(req, body, Date.now() + server.clockSkewMs);
    if (seen.rejected) {
      const message = req.headers.authorization ? SIGNATURE_MISMATCH : 'Forbidden';
      return reply(403, { 'content-type': 'application/json', 'x-test-reject-reason': seen.rejected }, JSON.stringify({ Message: message }));
    }
    if (failures > 0) {
      failures--;
      return reply(500, { 'content-type': 'application/json', 'retry-after-ms': '10' },
        JSON.stringify({ error: { message: 'transient failure', type: 'server_error', param: null, code: null } }));
    }
    if (req.method !== 'POST' || req.url !== '/v1/responses') {
      return reply(404, { 'content-type': 'application/json' }, JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
    }
    const params = JSON.parse(seen.body) as { model: string; input: unknown; stream?: boolean };
    const text = `You said: ${typeof params.input === 'string' ? params.input : JSON.stringify(params.input)}`;
    if (params.stream) {
      seen.status = 200;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      for (const frame of sseFrames(params.model, text)) {
        res.write(frame);
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
      return;
    }
    reply(200, { 'content-type': 'application/json' }, JSON.stringify(responseObject(params.model, text)));
  };

  /** Undefined when the request carries a valid signature for our credentials, else why not. */
  async function verify(req: IncomingMessage, body: Buffer, now: number): Promise<string | undefined> {
    const authorization = req.headers.authorization;
    if (!authorization) return 'no Authorization header';
    const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/[^/]+\/[^/]+\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/
      .exec(authorization);
    if (!auth) return 'malformed Authorization header';
    const [, accessKeyId, signedHeaderList] = auth as unknown as [string, string, string];
    if (accessKeyId !== credentials.accessKeyId) return 'unknown access key';

    const amzDate = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(String(req.headers['x-amz-date'] ?? ''));
    if (!amzDate) return 'missing or malformed x-amz-date';
    const signingDate = new Date(`${amzDate[1]}-${amzDate[2]}-${amzDate[3]}T${amzDate[4]}:${amzDate[5]}:${amzDate[6]}Z`);
    if (Math.abs(now - signingDate.getTime()) > MAX_SKEW_MS) return 'signature expired or not yet valid';

    if (req.headers['x-amz-content-sha256'] !== createHash('sha256').update(body).digest('hex')) {
      return 'x-amz-content-sha256 missing or not the hash of the body';
    }

    const names = signedHeaderList.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
    const headers: Record<string, string> = {};
    for (const name of names) {
      const value = req.headers[name];
      if (value === undefined) return `signed header ${name} not received`;
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const [path = '/', search = ''] = (req.url ?? '/').split(/\?(.*)/s);
    const params = new URLSearchParams(search);
    const query: Record<string, string[]> = {};
    for (const key of new Set(params.keys())) query[key] = params.getAll(key);

    const expected = await signer.sign(
      { method: req.method ?? 'GET', protocol: 'http:', hostname: '127.0.0.1', path, query, headers, body },
      { signingDate, signableHeaders: new Set(names) },
    );
    const a = Buffer.from(String(expected.headers.authorization));
    const b = Buffer.from(authorization);
    return a.length === b.length && timingSafeEqual(a, b) ? undefined : 'signature mismatch';
  }

  const server: SigV4Server & { http: ReturnType<typeof createServer> } = {
    http: createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    }),
    url: '',
    requests: [],
    clockSkewMs: 0,
    failNext: (n) => { failures = n; },
    close: () => {
      server.http.closeAllConnections();
      return new Promise<void>((resolve) => server.http.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${(server.http.address() as AddressInfo).port}`;
  return server;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

function responseObject(model: string, text: string, status: 'in_progress' | 'completed' = 'completed', id = `resp_${hex(12)}`) {
  const done = status === 'completed';
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: null,
    model,
    output: done ? [messageItem(text, 'msg_0')] : [],
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    usage: done
      ? { input_tokens: 3, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 7 }
      : null,
  };
}

const outputText = (text: string) => ({ type: 'output_text', annotations: [], logprobs: [], text });
const messageItem = (text: string, id: string, status = 'completed') =>
  ({ id, type: 'message', status, role: 'assistant', content: text ? [outputText(text)] : [] });

/** A short, valid Responses event stream that ends in response.completed. */
function sseFrames(model: string, text: string): string[] {
  const id = `resp_${hex(12)}`;
  const item_id = 'msg_0';
  const half = Math.ceil(text.length / 2);
  const events: Array<Record<string, unknown>> = [
    { type: 'response.created', response: responseObject(model, text, 'in_progress', id) },
    { type: 'response.in_progress', response: responseObject(model, text, 'in_progress', id) },
    { type: 'response.output_item.added', output_index: 0, item: messageItem('', item_id, 'in_progress') },
    { type: 'response.content_part.added', item_id, output_index: 0, content_index: 0, part: outputText('') },
    { type: 'response.output_text.delta', item_id, output_index: 0, content_index: 0, delta: text.slice(0, half), logprobs: [] },
    { type: 'response.output_text.delta', item_id, output_index: 0, content_index: 0, delta: text.slice(half), logprobs: [] },
    { type: 'response.output_text.done', item_id, output_index: 0, content_index: 0, text, logprobs: [] },
    { type: 'response.content_part.done', item_id, output_index: 0, content_index: 0, part: outputText(text) },
    { type: 'response.output_item.done', output_index: 0, item: messageItem(text, item_id) },
    { type: 'response.completed', response: responseObject(model, text, 'completed', id) },
  ];
  return events.map((e, sequence_number) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number })}\n\n`);
}
