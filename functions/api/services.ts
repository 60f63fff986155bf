import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseConfig, type Config } from '../../shared/config.ts';
import { HttpBackend } from '../../shared/adapters/http-backend.ts';
import { DynamoResponseStore } from '../../shared/adapters/dynamo-store.ts';
import { DynamoCacheStore } from '../../shared/adapters/dynamo-cache.ts';
import { DynamoConversationStore } from '../../shared/adapters/dynamo-conversations.ts';
import { buildRouter } from '../../shared/routing/index.ts';
import { DynamoSlotStore } from '../../shared/adapters/dynamo-slots.ts';
import { systemClock } from '../../shared/ports.ts';
import type { Services } from '../../shared/service/context.ts';
import type { BackgroundLauncher } from '../../shared/ports.ts';
import { withSecretParameters } from '../../shared/adapters/secrets.ts';

// Services are built once per process (a Lambda cold start, or the local server's start) and
// reused by every request.

export function buildServices(
  config: Config, dynamo: DynamoDBClient, tableName: string, launcher: (svc: Services) => BackgroundLauncher,
): Services {
  const backend = new HttpBackend();
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const svc: Services = {
    launcher: undefined as unknown as BackgroundLauncher, // set below: the launcher needs svc
    config,
    backend,
    clock: systemClock,
    store: new DynamoResponseStore(doc, tableName, { ttlSeconds: config.responseTtlSeconds }),
    cache: new DynamoCacheStore(doc, tableName), // same table: entries are `cache#<key>` partitions
    conversations: new DynamoConversationStore(doc, tableName), // same table: `conv_…` partitions
    // Slot leases live in the same table too, as `slot#<endpoint>|<model>` partitions.
    router: buildRouter(config, backend, new DynamoSlotStore(doc, tableName), systemClock),
  };
  svc.launcher = launcher(svc);
  return svc;
}

let current: Promise<Services> | undefined;

/**
 * Only the API starts and stops workflows: it registers the Step Functions launcher in its entry
 * module, so the worker's and sweeper's bundles carry no Step Functions client.
 */
let awsLauncher: (env: NodeJS.ProcessEnv) => BackgroundLauncher = () => ({
  start: () => Promise.reject(new Error('this function does not start background jobs')),
  stop: () => Promise.resolve(),
});

export function useLauncher(factory: (env: NodeJS.ProcessEnv) => BackgroundLauncher): void {
  awsLauncher = factory;
}

/** The local server (and tests) inject their own; on Lambda they come from the environment. */
export function setServices(svc: Services): void {
  current = Promise.resolve(svc);
}

export function getServices(): Promise<Services> {
  current ??= Promise.resolve().then(servicesFromEnv);
  return current;
}

async function servicesFromEnv(): Promise<Services> {
  // Upstream keys come from SSM SecureStrings named in SECRET_PARAMETERS, read at cold start,
  // and fill the config's ${NAME} placeholders: never plain text in the template or the bundle.
  const env = await withSecretParameters();
  const yaml = env.CONFIG_YAML ?? readFileSync(env.NOMYO_ROUTER_CONFIG_PATH ?? 'config.yaml', 'utf8');
  const dynamo = new DynamoDBClient(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {});
  return buildServices(parseConfig(yaml, env), dynamo, env.RESPONSES_TABLE ?? 'responses', () => awsLauncher(env));
}
