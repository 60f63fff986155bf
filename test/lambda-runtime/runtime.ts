// Our Lambda bundles under AWS's own runtime interface client (npm aws-lambda-ric, the client the
// nodejs24.x runtime is built on) on the project's Node 24, against the emulator beside this
// file: the bundles as `cdk synth` makes them, the events as a Function URL sends them.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_FILE, FUNCTIONS, PROJECT_ROOT, bundleSettings, esbuildOptions, type FunctionSpec } from '../../infra/bundling.ts';
import { startEmulator, type Emulator, type InvokeOptions, type InvokeResult } from './emulator.ts';

export type FunctionId = FunctionSpec['id'];

const RIC_DIR = join(PROJECT_ROOT, 'node_modules', 'aws-lambda-ric');
/** The client's entry; v4 takes everything from the environment, nothing from argv. */
const RIC_ENTRY = join(RIC_DIR, 'index.mjs');
/** Its native part (libcurl + aws-lambda-cpp), built by `npm ci` (needs cmake, make, g++, python3). */
const RIC_ADDON = join(RIC_DIR, 'rapid-client.node');
/** The project's Node 24 (the npm package `node`, pinned): Lambda's nodejs24.x. */
export const NODE = join(PROJECT_ROOT, 'node_modules', '.bin', 'node');

/** Why the real runtime cannot run here, or null when it can. */
export function runtimeMissing(): string | null {
  if (!existsSync(RIC_ENTRY)) return 'aws-lambda-ric is not installed (npm ci installs it)';
  if (!existsSync(RIC_ADDON)) return `aws-lambda-ric's native client was not built (${RIC_ADDON} is missing: npm ci builds it with cmake, make, g++ and python3; check its install log)`;
  if (!existsSync(NODE)) return 'the project\'s Node 24 (node_modules/.bin/node, the npm package `node`) is not installed';
  return null;
}

/** Each function bundled by esbuild with the options `cdk synth` uses (infra/bundling.ts), as `<dir>/<id>/index.mjs`. */
export async function bundleAll(dir: string): Promise<Record<FunctionId, string>> {
  const out = {} as Record<FunctionId, string>;
  for (const spec of FUNCTIONS) {
    out[spec.id] = join(dir, spec.id);
    await build({ ...esbuildOptions(bundleSettings(), spec.entry, join(out[spec.id], BUNDLE_FILE)), logLevel: 'silent' });
  }
  return out;
}

export interface Runtime {
  emulator: Emulator;
  process: ChildProcess;
  /** Everything the process wrote (the function's log lines, the runtime's own). */
  output: string[];
  invoke(event: unknown, opts?: InvokeOptions): Promise<InvokeResult>;
  close(): Promise<void>;
}

/**
 * One function's runtime process, initialised and waiting for its first event. `env` is the
 * function's configuration (what the stack sets); the Lambda variables are added here. Nothing
 * reaches AWS: every AWS endpoint not given in `env` is a closed loopback port.
 */
export async function startRuntime(id: FunctionId, taskRoot: string, env: Record<string, string>): Promise<Runtime> {
  const spec = FUNCTIONS.find((f) => f.id === id)!;
  const emulator = await startEmulator({ functionName: id, functionTimeoutMs: spec.timeoutSeconds * 1000 });
  const child = spawn(NODE, [RIC_ENTRY], {
    cwd: taskRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      TZ: 'UTC',
      LANG: 'en_US.UTF-8',
      AWS_LAMBDA_RUNTIME_API: emulator.address,
      _HANDLER: `index.${spec.handler}`,
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_NAME: `gateway-${id}`,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/gateway-${id}`,
      AWS_LAMBDA_LOG_STREAM_NAME: randomUUID(),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: 'local',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      ...env,
    },
  });
  const output: string[] = [];
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (c: Buffer) => output.push(...c.toString('utf8').split('\n').filter(Boolean)));
  emulator.attach(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([emulator.idle(), exited]);
  if (child.exitCode !== null) {
    await emulator.close();
    throw new Error(`the ${id} runtime exited at start:\n${output.join('\n')}`);
  }
  return {
    emulator,
    process: child,
    output,
    invoke: (event, opts) => emulator.invoke(event, opts),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await emulator.close();
    },
  };
}

export interface UrlRequest {
  method?: string;
  /** Path with an optional query string. */
  path: string;
  headers?: Record<string, string>;
  /** Text as is; a Buffer goes base64-encoded (isBase64Encoded), as a Function URL sends binary bodies. */
  body?: string | Buffer;
  /** Who signed the request (requestContext.authorizer.iam.userArn); omit for none. */
  userArn?: string;
}

/** The event a Function URL gives the function (payload format 2.0). */
export function functionUrlEvent(r: UrlRequest) {
  const [rawPath, rawQueryString = ''] = r.path.split('?', 2) as [string, string?];
  const headers: Record<string, string> = { host: 'abcdefghij.lambda-url.us-east-1.on.aws', 'x-forwarded-proto': 'https', 'user-agent': 'emulator' };
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = k in query ? `${query[k]},${v}` : v;
  const method = r.method ?? (r.body === undefined ? 'GET' : 'POST');
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdefghij',
      ...(r.userArn ? { authorizer: { iam: { accessKey: 'AKIAEXAMPLE', accountId: '123456789012', callerId: 'AIDAEXAMPLE', userArn: r.userArn, userId: 'AIDAEXAMPLE', cognitoIdentity: null, principalOrgId: null } } } : {}),
      domainName: headers.host,
      domainPrefix: 'abcdefghij',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: Buffer.isBuffer(r.body),
    ...(r.body === undefined ? {} : { body: Buffer.isBuffer(r.body) ? r.body.toString('base64') : r.body }),
  };
}
