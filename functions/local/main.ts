import { ConfigError } from '../../shared/config.ts';
import { configPathOf } from '../../shared/config-file.ts';
import { log } from '../../shared/log.ts';
import { flushMetrics, publishEvery } from '../../shared/metrics.ts';
import { DataDirInUse } from './data-dir-lock.ts';
import { maskUrls } from '../../shared/redact.ts';
import { startGateway } from './gateway.ts';
import { batchStdout } from './stdout-batch.ts';

// `npm start`: the gateway on 127.0.0.1:${PORT:-12434}, state under ${DATA_DIR:-.data}, or in the
// DynamoDB at $DYNAMODB_ENDPOINT (tables already created) when set.

batchStdout();
// Metrics once a second, not per request (Lambda's functions publish per invocation).
publishEvery(1_000);

const port = Number(process.env.PORT ?? 12434);
const dataDir = process.env.DATA_DIR ?? '.data';
const configPath = configPathOf();
const dynamoEndpoint = process.env.DYNAMODB_ENDPOINT || undefined;

const gateway = await startGateway({ port, dataDir, configPath, dynamoEndpoint }).catch((err: unknown) => {
  // A config the gateway cannot run with (the message names the file and the key), or a DATA_DIR in use: no stack.
  if (!(err instanceof ConfigError || err instanceof DataDirInUse)) throw err;
  process.stderr.write(`Cannot start: ${err.message}\n`);
  process.exit(1);
});
log.info('started', {
  url: `${gateway.url}/v1`,
  config: configPath,
  dataDir: dynamoEndpoint ? null : dataDir,
  dynamoEndpoint,
  endpoints: gateway.config.endpoints.map((e) => `${maskUrls(e.url)} (${e.kind})`),
});
// The one line for the person who ran `npm start`, whatever log_level says.
process.stdout.write(`Responses API gateway listening on ${gateway.url}/v1\n`);

// A drain: no new requests; those running (and background jobs) get shutdown_grace_ms, then are
// stopped, each ending with its terminal event stored; then the process exits.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info(`${signal}: stopping`, { shutdown_grace_ms: gateway.config.server.shutdownGraceMs });
    void gateway.close().then(() => {
      flushMetrics();
      process.exit(0);
    });
  });
}
