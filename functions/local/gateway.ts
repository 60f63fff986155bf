import { readFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../shared/config.ts';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import type { StreamingHandler } from './lambda-runtime.ts';
import { startServer, type LocalServer } from './server.ts';

// One machine's whole system: the embedded DynamoDB, services wired to it, and the API handler
// served over HTTP. `npm start` and the integration tests both start it through here.

export interface Gateway extends LocalServer {
  dynamo: LocalDynamo;
  config: Config;
}

export interface GatewayOptions {
  /** Config YAML text (wins) or a file path. */
  configYaml?: string;
  configPath?: string;
  /** LevelDB directory for the embedded DynamoDB; omit for in-memory. */
  dataDir?: string;
  port?: number;
  env?: Record<string, string | undefined>;
}

export function defaultConfigPath(env: Record<string, string | undefined> = process.env): string {
  if (env.NOMYO_ROUTER_CONFIG_PATH) return env.NOMYO_ROUTER_CONFIG_PATH;
  return existsSync('config.yaml') ? 'config.yaml' : 'config.example.yaml';
}

export async function startGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const yaml = opts.configYaml ?? readFileSync(opts.configPath ?? defaultConfigPath(opts.env), 'utf8');
  const config = parseConfig(yaml, opts.env ?? process.env);
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const dynamo = await startDynalite(opts.dataDir ? { path: join(opts.dataDir, 'dynamodb') } : {});
  // Imported after the Lambda globals exist: middy reads `awslambda` when the module loads.
  const { buildServices, setServices } = await import('../api/services.ts');
  const server = await startServer({
    port: opts.port,
    loadHandler: async () => (await import('../api/handler.ts')).handler as unknown as StreamingHandler,
  });
  setServices(buildServices(config, dynamo.client, dynamo.tables.responses));
  return {
    ...server,
    dynamo,
    config,
    close: async () => {
      await server.close();
      await dynamo.close();
    },
  };
}
