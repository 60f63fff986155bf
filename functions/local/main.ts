import { log } from '../../shared/log.ts';
import { startGateway, defaultConfigPath } from './gateway.ts';

// `npm start`: the gateway on 127.0.0.1:${PORT:-12434}, state under ${DATA_DIR:-.data}, or in the
// DynamoDB at $DYNAMODB_ENDPOINT (tables already created) when set.

const port = Number(process.env.PORT ?? 12434);
const dataDir = process.env.DATA_DIR ?? '.data';
const configPath = defaultConfigPath();
const dynamoEndpoint = process.env.DYNAMODB_ENDPOINT || undefined;

const gateway = await startGateway({ port, dataDir, configPath, dynamoEndpoint });
log.info(`Responses API gateway listening on ${gateway.url}/v1`, {
  config: configPath,
  dataDir: dynamoEndpoint ? null : dataDir,
  dynamoEndpoint,
  endpoints: gateway.config.endpoints.map((e) => `${e.url} (${e.kind})`),
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void gateway.close().then(() => process.exit(0));
  });
}
