// One call to an AWS API that speaks the JSON protocol (SSM, Step Functions), signed with SigV4:
// what the gateway needs of those services is a call or two, and each SDK client would add tens
// of KB to a Lambda bundle. Credentials and region come from the environment Lambda gives every
// function; the endpoint from AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL when set (as the SDK).
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

export interface AwsApi {
  /** The signing name and endpoint prefix: `ssm`, `states`. */
  service: string;
  /** The suffix of its endpoint variable: AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_SFN. */
  envName: string;
  /** X-Amz-Target's prefix (`AmazonSSM`, `AWSStepFunctions`) and its JSON version. */
  targetPrefix: string;
  jsonVersion: '1.0' | '1.1';
}

export interface CallOptions {
  region?: string;
  endpoint?: string;
  credentials?: Credentials;
  /** Default AWS_CALL_TIMEOUT_MS. */
  timeoutMs?: number;
}

/**
 * How long one call (answer and body) may take. These are a cold start's SSM read and a background
 * create's StartExecution, which AWS answers in tens of milliseconds: one that hangs would
 * otherwise hold the function until Lambda's own timeout (minutes), failing with nothing said.
 */
export const AWS_CALL_TIMEOUT_MS = 10_000;

/** The credentials Lambda gives every function in its environment (its role's), or undefined. */
export function credentialsFromEnv(env: Record<string, string | undefined> = process.env): Credentials | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined;
}

/** An error AWS answered with: its type (`ExecutionAlreadyExists`, ...) and message. */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  constructor(readonly type: string, message: string, readonly status: number) {
    super(message);
  }
}

export async function awsJson<T>(api: AwsApi, action: string, body: unknown, opts: CallOptions = {}, env: Record<string, string | undefined> = process.env): Promise<T> {
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error(`${api.targetPrefix}.${action}: no region (AWS_REGION)`);
  const credentials = opts.credentials ?? credentialsFromEnv(env);
  if (!credentials) throw new Error(`${api.targetPrefix}.${action}: no credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)`);
  const url = new URL(opts.endpoint ?? env[`AWS_ENDPOINT_URL_${api.envName}`] ?? env.AWS_ENDPOINT_URL ?? `https://${api.service}.${region}.amazonaws.com/`);
  const text = JSON.stringify(body);
  const signed = await new SignatureV4({ service: api.service, region, credentials, sha256: Sha256 }).sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname || '/',
    query: {}, headers: { host: url.host, 'content-type': `application/x-amz-json-${api.jsonVersion}`, 'x-amz-target': `${api.targetPrefix}.${action}` },
    body: text,
  });
  const { host: _host, ...headers } = signed.headers; // signed as fetch sends it; fetch sets it itself
  const timeoutMs = opts.timeoutMs ?? AWS_CALL_TIMEOUT_MS;
  let res: Response;
  let answer: string;
  try {
    res = await fetch(url, { method: 'POST', headers, body: text, signal: AbortSignal.timeout(timeoutMs) });
    answer = await res.text();
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new Error(`${api.targetPrefix}.${action} did not answer within ${timeoutMs} ms`);
    throw err;
  }
  const json = (() => { try { return JSON.parse(answer) as Record<string, unknown>; } catch { return {}; } })();
  if (!res.ok) {
    // `__type` may carry a namespace: `com.amazonaws.states#ExecutionAlreadyExists`.
    const type = String(json.__type ?? `HTTP${res.status}`).split('#').pop()!;
    throw new AwsError(type, `${api.targetPrefix}.${action} answered HTTP ${res.status}: ${type}: ${String(json.message ?? json.Message ?? answer.slice(0, 200))}`, res.status);
  }
  return json as T;
}
