// The composition root: the one place where the gateway's parts are made and wired together, for
// the three Lambda functions (from their environment) and the local server (functions/local).
// Nothing here is kept at module level: each caller holds the services it built, so one process
// can host several gateways (tests do), and a failed build is retried by the next caller.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigError, configOf, logConfigNotices, type Config } from '../shared/config.ts';
import { HttpBackend } from '../shared/adapters/http-backend.ts';
import { DynamoCacheStore } from '../shared/adapters/dynamo/cache.ts';
import { DynamoConversationStore } from '../shared/adapters/dynamo/conversations.ts';
import { DynamoEventLog } from '../shared/adapters/dynamo/event-log.ts';
import { DynamoResponseStore } from '../shared/adapters/dynamo/responses.ts';
import { DynamoSlotStore } from '../shared/adapters/dynamo/slots.ts';
import { processSlots } from '../shared/adapters/process-slots.ts';
import { TABLES, tableEnvName, tableNames, type TableKey } from '../shared/adapters/dynamo/layout.ts';
import { withSecretParameters } from '../shared/adapters/secrets.ts';
import { pdfReader } from '../shared/adapters/pdf-text.ts';
import { redactor } from '../shared/redact.ts';
import { Sealer } from '../shared/protocol/sealed.ts';
import { buildRouter } from '../shared/routing/index.ts';
import { systemClock, type BackgroundLauncher } from '../shared/ports.ts';
import type { Services } from '../shared/service/context.ts';
import { log } from '../shared/log.ts';

export type LauncherFactory = (svc: Services, env: Record<string, string | undefined>) => BackgroundLauncher;

/**
 * The services of one gateway on its DynamoDB tables (physical names; layout.ts says what each
 * holds). `ownsDatabase`: this process is the only one on its database (npm start on its own
 * DATA_DIR), so concurrency slots are counted in the process, with no lease written; gateways
 * that share a table (Lambda instances, several processes on one DynamoDB) lease them in it.
 */
export function buildServices(
  config: Config, dynamo: DynamoDBClient, tables: Record<TableKey, string>, launcher: LauncherFactory,
  env: Record<string, string | undefined> = {}, opts: { ownsDatabase?: boolean } = {},
): Services {
  if (!process.env.POWERTOOLS_LOG_LEVEL) log.setLogLevel(config.logLevel.toUpperCase() as 'INFO');
  const tableName = tables.responses;
  const backend = new HttpBackend({ maxResponseBytes: config.maxUpstreamResponseBytes, maxEventBytes: config.maxUpstreamEventBytes, redact: redactor(config.secrets) });
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const svc: Services = {
    launcher: undefined as unknown as BackgroundLauncher, // set below: a local launcher runs the worker with these services
    config,
    backend,
    clock: systemClock,
    documents: pdfReader,
    sealer: config.reasoningKeys ? new Sealer(config.reasoningKeys) : Sealer.ephemeral(),
    store: new DynamoResponseStore(doc, tableName, { ttlSeconds: config.responseTtlSeconds }),
    events: new DynamoEventLog(doc, tableName, config.responseTtlSeconds),
    cache: new DynamoCacheStore(doc, tables.cache),
    conversations: new DynamoConversationStore(doc, tableName),
    router: buildRouter(config, backend, opts.ownsDatabase ? processSlots : new DynamoSlotStore(doc, tableName), systemClock),
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
 * the template or the bundle), the config from CONFIG_JSON (the config file as `cdk synth`
 * validated it, as JSON: no YAML parser in the bundle), the tables from
 * RESPONSES_TABLE and CACHE_TABLE (each defaults to its logical name).
 */
export async function servicesFromEnv(
  processEnv: Record<string, string | undefined>, launcher: LauncherFactory, opts: { notices?: boolean } = {},
): Promise<Services> {
  const env = await withSecretParameters(processEnv);
  if (env.CONFIG_JSON === undefined) throw new ConfigError('CONFIG_JSON is not set: the stack gives each function its config there');
  const config = configOf(() => JSON.parse(env.CONFIG_JSON!), 'CONFIG_JSON', env);
  if (opts.notices !== false) logConfigNotices(config, 'CONFIG_JSON');
  const dynamo = new DynamoDBClient(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {});
  return buildServices(config, dynamo, tablesFromEnv(env), launcher, env);
}

/** Each table's name from its variable (tableEnvName), or its logical name. */
export function tablesFromEnv(env: Record<string, string | undefined>): Record<TableKey, string> {
  const names = tableNames();
  for (const key of Object.keys(TABLES) as TableKey[]) names[key] = env[tableEnvName(key)] || names[key];
  return names;
}

/** Built on first use and kept; a build that failed is not kept, so the next caller tries again. */
export function lazy<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => (built ??= build().catch((err: unknown) => {
    built = undefined;
    throw err;
  }));
}
