// Upstream API keys from SSM Parameter Store, read once at cold start. The stack passes
// SECRET_PARAMETERS = {"ENV_NAME": "/parameter/name", ...}; the values (SecureStrings, decrypted
// here) are merged into the environment that the config's `${ENV_NAME}` expansion reads. Key
// values are never in the template, the bundle or the Lambda configuration.
//
// One signed call per 10 names (aws-json.ts) rather than the SSM client: the client would be a
// fifth of the Lambda bundle for this one call.
import { awsJson, type CallOptions } from './aws-json.ts';

/** GetParameters takes at most 10 names per call. */
const GET_PARAMETERS_BATCH = 10;

const SSM = { service: 'ssm', envName: 'SSM', targetPrefix: 'AmazonSSM', jsonVersion: '1.1' } as const;

interface GetParametersOutput {
  Parameters?: Array<{ Name?: string; ARN?: string; Value?: string }>;
  InvalidParameters?: string[];
}

/**
 * ENV NAME -> parameter name (or ARN) in; ENV NAME -> decrypted value out. Throws when a
 * parameter does not exist or cannot be read: a function without its keys should fail its cold
 * start loudly, not call upstreams unauthenticated.
 */
export async function loadSecretParameters(
  map: Record<string, string>, opts: CallOptions = {}, env: Record<string, string | undefined> = process.env,
): Promise<Record<string, string>> {
  const entries = Object.entries(map);
  if (entries.length === 0) return {};
  const names = [...new Set(entries.map(([, name]) => name))];
  const batches: string[][] = [];
  for (let i = 0; i < names.length; i += GET_PARAMETERS_BATCH) batches.push(names.slice(i, i + GET_PARAMETERS_BATCH));
  const outs = await Promise.all(batches.map((Names) => awsJson<GetParametersOutput>(SSM, 'GetParameters', { Names, WithDecryption: true }, opts, env)));
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
  opts: CallOptions = {},
): Promise<Record<string, string | undefined>> {
  const secrets = await loadSecretParameters(secretParameterMap(env.SECRET_PARAMETERS), opts, env);
  return { ...env, ...secrets };
}
