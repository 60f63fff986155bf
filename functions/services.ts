// The composition root: the one place where the gateway's parts are made and wired together, for
// the three Lambda functions (from their environment) and the local server (functions/local).
// Nothing here is kept at module level: each caller holds the services it built, so one process
// can host several gateways (tests do), and a failed build is retried by the next caller.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../shared/config.ts';
import { configFrom, loadConfigFile, logConfigNotices } from '../shared/config-file.ts';
import { HttpBackend } from '../shared/adapters/http-backend.ts';
import { DynamoCacheStore } from '../shared/adapters/dynamo/cache.ts';
import { DynamoConversationStore } from '../shared/adapters/dynamo/conversations.ts';
import { DynamoEventLog } from '../shared/adapters/dynamo/event-log.ts';
import { DynamoResponseStore } from '../shared/adapters/dynamo/responses.ts';
import { DynamoSlotStore } from '../shared/adapters/dynamo/slots.ts';
import { withSecretParameters } from '../shared/adapters/secrets.ts';
import { redactor } from '../shared/redact.ts';
import { buildRouter } from '../shared/routing/index.ts';
import { systemClock, type BackgroundLauncher } from '../shared/ports.ts';
import type { Services } from '../shared/service/context.ts';

export type LauncherFactory = (svc: Services, env: Record<string, string | undefined>) => BackgroundLauncher;

/** The services of one gateway on one DynamoDB table (every item kind shares it: layout.ts). */
export function buildServices(config: Config, dynamo: DynamoDBClient, tableName: string, launcher: LauncherFactory, env: Record<string, string | undefined> = {}): Services {
  const backend = new HttpBackend({ maxResponseBytes: config.maxUpstreamResponseBytes, maxEventBytes: config.maxUpstreamEventBytes, redact: redactor(config.secrets) });
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const svc: Services = {
    launcher: undefined as unknown as BackgroundLauncher, // set below: a local launcher runs the worker with these services
    config,
    backend,
    clock: systemClock,
    store: new DynamoResponseStore(doc, tableName, { ttlSeconds: config.responseTtlSeconds }),
    events: new DynamoEventLog(doc, tableName, config.responseTtlSeconds),
    cache: new DynamoCacheStore(doc, tableName),
    conversations: new DynamoConversationStore(doc, tableName),
    router: buildRouter(config, backend, new DynamoSlotStore(doc, tableName), systemClock),
  };
  svc.launcher = launcher(svc, env);
  return svc;
}

/** Functions that never start background jobs (the worker, the sweeper): their bundles carry no Step Functions client. */
export const noLauncher: LauncherFactory = () => ({
  start: () => Promise.reject(new Error('this function does not start background jobs')),
  stop: () => Promise.resolve(),
});

/**
 * A Lambda function's services, from its environment: upstream keys from the SSM SecureStrings
 * named in SECRET_PARAMETERS (they fill the config's ${NAME} placeholders: never plain text in
 * the template or the bundle), the config from CONFIG_YAML (or the file), the table from
 * RESPONSES_TABLE.
 */
export async function servicesFromEnv(processEnv: Record<string, string | undefined>, launcher: LauncherFactory): Promise<Services> {
  const env = await withSecretParameters(processEnv);
  const source = env.CONFIG_YAML !== undefined ? 'CONFIG_YAML' : env.NOMYO_ROUTER_CONFIG_PATH ?? 'config.yaml';
  const config = env.CONFIG_YAML !== undefined ? configFrom(env.CONFIG_YAML, source, env) : loadConfigFile(source, env);
  logConfigNotices(config, source);
  const dynamo = new DynamoDBClient(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {});
  return buildServices(config, dynamo, env.RESPONSES_TABLE ?? 'responses', launcher, env);
}

/** Built on first use and kept; a build that failed is not kept, so the next caller tries again. */
export function lazy<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => (built ??= build().catch((err: unknown) => {
    built = undefined;
    throw err;
  }));
}
