// Upstream API keys from SSM Parameter Store, read once at cold start. The stack passes
// SECRET_PARAMETERS = {"ENV_NAME": "/parameter/name", ...}; the values (SecureStrings, decrypted
// here) are merged into the environment that the config's `${ENV_NAME}` expansion reads. Key
// values are never in the template, the bundle or the Lambda configuration.
//
// One signed HTTPS call per 10 names (SSM's JSON protocol, AmazonSSM.GetParameters) rather than
// the SSM client: the client would be a fifth of the Lambda bundle for this one call.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** GetParameters takes at most 10 names per call. */
export const GET_PARAMETERS_BATCH = 10;

export interface Credentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

export interface LoadSecretOptions {
  /** Default: the function's own (AWS_REGION). */
  region?: string;
  /** Default: SSM's endpoint in the region, or AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL when set. */
  endpoint?: string;
  /** Default: the function's role, from the environment Lambda sets (AWS_ACCESS_KEY_ID, ...). */
  credentials?: Credentials;
}

interface GetParametersOutput {
  Parameters?: Array<{ Name?: string; ARN?: string; Value?: string }>;
  InvalidParameters?: string[];
}

async function getParameters(names: string[], opts: Required<LoadSecretOptions>): Promise<GetParametersOutput> {
  const url = new URL(opts.endpoint);
  const signer = new SignatureV4({ service: 'ssm', region: opts.region, credentials: opts.credentials, sha256: Sha256 });
  const body = JSON.stringify({ Names: names, WithDecryption: true });
  const signed = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname || '/',
    query: {}, headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameters' },
    body,
  });
  // `host` was signed as fetch will send it; fetch sets it itself.
  const { host: _host, ...headers } = signed.headers;
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  if (!res.ok) {
    const err = (() => { try { return JSON.parse(text) as { __type?: string; message?: string }; } catch { return {}; } })();
    throw new Error(`SSM GetParameters answered HTTP ${res.status}: ${err.__type ?? ''} ${err.message ?? text.slice(0, 200)}`.trim());
  }
  return JSON.parse(text) as GetParametersOutput;
}

function defaults(opts: LoadSecretOptions, env: Record<string, string | undefined>): Required<LoadSecretOptions> {
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('secret parameters: no region (AWS_REGION) to read them in');
  const credentials = opts.credentials ?? (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined }
    : undefined);
  if (!credentials) throw new Error('secret parameters: no credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) to read them with');
  const endpoint = opts.endpoint ?? env.AWS_ENDPOINT_URL_SSM ?? env.AWS_ENDPOINT_URL ?? `https://ssm.${region}.amazonaws.com/`;
  return { region, endpoint, credentials };
}

/**
 * ENV NAME -> parameter name (or ARN) in; ENV NAME -> decrypted value out. Throws when a
 * parameter does not exist or cannot be read: a function without its keys should fail its cold
 * start loudly, not call upstreams unauthenticated.
 */
export async function loadSecretParameters(
  map: Record<string, string>, opts: LoadSecretOptions = {}, env: Record<string, string | undefined> = process.env,
): Promise<Record<string, string>> {
  const entries = Object.entries(map);
  if (entries.length === 0) return {};
  const resolved = defaults(opts, env);
  const names = [...new Set(entries.map(([, name]) => name))];
  const batches: string[][] = [];
  for (let i = 0; i < names.length; i += GET_PARAMETERS_BATCH) batches.push(names.slice(i, i + GET_PARAMETERS_BATCH));
  const outs = await Promise.all(batches.map((batch) => getParameters(batch, resolved)));
  const values = new Map<string, string>();
  const missing: string[] = [];
  for (const out of outs) {
    missing.push(...(out.InvalidParameters ?? []));
    for (const p of out.Parameters ?? []) {
      if (p.Value === undefined) continue;
      // A parameter asked for by ARN comes back with its ARN; by name, with its name.
      if (p.Name !== undefined) values.set(p.Name, p.Value);
      if (p.ARN !== undefined) values.set(p.ARN, p.Value);
    }
  }
  const result: Record<string, string> = {};
  for (const [envName, name] of entries) {
    const value = values.get(name);
    if (value === undefined) {
      if (!missing.includes(name)) missing.push(name);
      continue;
    }
    result[envName] = value;
  }
  if (missing.length > 0) throw new Error(`secret parameters not found or not readable: ${[...new Set(missing)].join(', ')}`);
  return result;
}

/** Parses SECRET_PARAMETERS (a JSON object ENV NAME -> parameter name); empty when unset. */
export function secretParameterMap(json: string | undefined): Record<string, string> {
  if (!json) return {};
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error('SECRET_PARAMETERS: expected a JSON object of ENV NAME -> SSM parameter name');
  }
  return parsed as Record<string, string>;
}

/**
 * The environment the config is expanded with: `env` plus the secrets SECRET_PARAMETERS names
 * (they win over same-named variables). `env` itself is not modified.
 */
export async function withSecretParameters(
  env: Record<string, string | undefined> = process.env,
  opts: LoadSecretOptions = {},
): Promise<Record<string, string | undefined>> {
  const secrets = await loadSecretParameters(secretParameterMap(env.SECRET_PARAMETERS), opts, env);
  return { ...env, ...secrets };
}
