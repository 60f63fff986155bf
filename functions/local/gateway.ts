import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { logConfigNotices, type Config } from '../../shared/config.ts';
import { configFrom, configPathOf, loadConfigFile } from '../../shared/config-file.ts';
import { localClient, startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { tableNames } from '../../shared/adapters/dynamo/layout.ts';
import { installLambdaGlobals, type StreamingHandler } from './lambda-runtime.ts';
import { startServer, type LocalServer } from './server.ts';
import { apiHandler } from '../api/app.ts';
import { preflight } from '../api/routes.ts';
import { attachWebSockets } from './websocket.ts';
import { LocalWorkflowLauncher } from '../../shared/adapters/local-workflow.ts';
import { log } from '../../shared/log.ts';
import type { Services } from '../../shared/service/context.ts';
import { sweepOrphans } from '../../shared/service/sweep.ts';
import { markFailed, runBackground } from '../../shared/service/worker.ts';
import { buildServices } from '../services.ts';
import { lockDataDir } from './data-dir-lock.ts';

// One machine's whole system: the embedded DynamoDB, services wired to it, and the API handler
// served over HTTP. `npm start` and the integration tests both start it through here.

export interface Gateway extends LocalServer {
  dynamo: LocalDynamo;
  config: Config;
  svc: Services;
}

export interface GatewayOptions {
  /** Config YAML text (wins) or a file path. */
  configYaml?: string;
  configPath?: string;
  /** LevelDB directory for the embedded DynamoDB; omit for in-memory. */
  dataDir?: string;
  port?: number;
  env?: Record<string, string | undefined>;
  /** Workflow retry interval override (tests: retries without waiting seconds). */
  retryIntervalMs?: number;
  /**
   * An existing DynamoDB endpoint (tables already created) instead of an embedded one: several
   * gateways on one table behave as Lambda instances sharing theirs. `dataDir` is then unused.
   */
  dynamoEndpoint?: string;
  /** Serve WebSocket mode on GET /v1/responses (default); false answers the handshake as Lambda does (426). */
  webSockets?: boolean;
}

export async function startGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const env = opts.env ?? process.env;
  const source = opts.configYaml !== undefined ? '(inline)' : opts.configPath ?? configPathOf(env);
  const config = opts.configYaml !== undefined ? configFrom(opts.configYaml, source, env) : loadConfigFile(source, env);
  logConfigNotices(config, source);
  let dynamo: LocalDynamo;
  let unlock = () => {};
  if (opts.dynamoEndpoint) {
    const client = localClient(opts.dynamoEndpoint);
    dynamo = { endpoint: opts.dynamoEndpoint, client, tables: tableNames(), close: async () => client.destroy() };
  } else {
    if (opts.dataDir) {
      mkdirSync(opts.dataDir, { recursive: true });
      unlock = lockDataDir(opts.dataDir);
    }
    dynamo = await startDynalite(opts.dataDir ? { path: join(opts.dataDir, 'dynamodb') } : {}).catch((err: unknown) => { unlock(); throw err; });
  }
  const svc = buildServices(config, dynamo.client, dynamo.tables, (s) => new LocalWorkflowLauncher({
    run: (input, shutdown) => runBackground(s, input, shutdown),
    fail: (input) => markFailed(s, input),
  }, { retryIntervalMs: opts.retryIntervalMs }), env, { ownsDatabase: !opts.dynamoEndpoint });
  // Made after the Lambda globals exist: apiHandler() reads `awslambda` when called (importing
  // app.ts does not). One handler for HTTP and WebSocket frames.
  installLambdaGlobals();
  const handler = apiHandler(async () => svc) as unknown as StreamingHandler;
  const server = await startServer({
    port: opts.port,
    limits: config.server,
    // The key is checked from the headers, before any body is read.
    preflight: (event) => preflight(svc, event),
    loadHandler: async () => handler,
  });
  const sockets = opts.webSockets === false ? null : attachWebSockets(server.server, handler, config.clientKeys);
  // EventBridge Scheduler's job in AWS: the sweep, on a timer.
  const sweep = setInterval(() => {
    void sweepOrphans(svc).catch((err: unknown) => log.error('sweep failed', err as Error));
  }, config.sweepIntervalMs);
  sweep.unref();
  return {
    ...server,
    dynamo,
    config,
    svc,
    /**
     * A drain (SIGTERM): no new requests; foreground requests and background jobs still running
     * get `shutdown_grace_ms` (or `graceMs`), then are stopped, each ending with its terminal
     * event stored; then DynamoDB closes.
     */
    close: async (graceMs = config.server.shutdownGraceMs) => {
      clearInterval(sweep);
      sockets?.close();
      await Promise.all([server.close(graceMs), (svc.launcher as LocalWorkflowLauncher).drain(graceMs)]);
      await dynamo.close();
      unlock();
    },
  };
}
