// DynamoDB round trips per operation, counted on the wire (every request the SDK sends), through
// the real handler over HTTP with dynalite and a fake upstream. Counts, not timings: the same on
// any machine.  Run: node_modules/.bin/node --import tsx bench/dynamo-round-trips.ts
import './quiet.ts';
import { countCalls, sequentialBefore } from '../test/helpers/count-calls.ts';
import { startGateway } from '../functions/local/gateway.ts';
import { startDynalite } from '../shared/adapters/dynalite.ts';
import { startFakeUpstream } from '../test/helpers/fake-upstream.ts';
import { postJson, getJson, startSystem, sseEvents } from '../test/helpers/harness.ts';
import { target } from './lib.ts';

const TOKENS = Number(process.env.TOKENS ?? 1000);

// The gateway owns its database, as npm start does: its concurrency slots (default limit 1) are
// counted in the process and write nothing, so these counts are the same with no limit. A shared
// table's slot leases are counted by bench/lease-costs.ts.
const sys = await startSystem({
  upstreams: [{ flavor: 'ollama', models: ['m:latest'] }],
  extraConfig: `flush_ms: ${process.env.FLUSH_MS ?? 500}\npoll_ms: 200\nheartbeat_ms: 30000\nsweep_interval_ms: 3600000`,
});
const up = sys.upstreams[0]!;
const counter = countCalls(sys.gw.dynamo.client);
const rows: Array<[string, string]> = [];

async function measure(name: string, fn: () => Promise<unknown>): Promise<void> {
  await new Promise((r) => setTimeout(r, 50)); // let earlier background writes settle
  counter.reset();
  await fn();
  const by = Object.entries(counter.byCommand).map(([k, v]) => `${k} ${v}`).join(', ');
  rows.push([name, `${counter.count} (${by || 'none'})`]);
}

const create = (body: object) => postJson(`${sys.base}/responses`, { model: 'm', input: 'hi', ...body });

await measure('create, store: false', () => create({ store: false }));
await measure('create, store: true (default)', () => create({}));
await measure('create, stream: true, store: true', () =>
  fetch(`${sys.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', input: 'hi', stream: true }) }).then((r) => r.text()));

// A 50-turn chain, then one more turn on it.
let prev: string | undefined;
for (let i = 0; i < 50; i++) prev = (await create({ input: `turn ${i}`, previous_response_id: prev })).json.id;
await measure('create on a 50-turn chain, store: true', () => create({ input: 'turn 51', previous_response_id: prev }));
await measure('create on a 50-turn chain, store: false', () => create({ input: 'turn 51', previous_response_id: prev, store: false }));
await measure('retrieve', () => getJson(`${sys.base}/responses/${prev}`));
await measure('input_items', () => getJson(`${sys.base}/responses/${prev}/input_items`));

// Background: a 1,000-token answer streamed at ~200 tokens/s, one token per chunk.
up.script({ deltas: Array.from({ length: TOKENS }, (_, i) => `t${i} `), chunkDelayMs: 5 });
let bgId = '';
let bgBytes = 0;
await measure(`background response of ${TOKENS} streamed tokens (API + worker, JSON create, no reader)`, async () => {
  bgId = (await create({ background: true })).json.id;
  for (;;) {
    const r = await getJson(`${sys.base}/responses/${bgId}`);
    if (r.json.status === 'completed') break;
    await new Promise((res) => setTimeout(res, 100));
  }
});
// The polls of the loop above are reads of ours, not the job's: count the job's writes alone.
const bgRow = rows.at(-1)!;
const writes = (bgRow[1].match(/(PutItem|UpdateItem|BatchWriteItem) (\d+)/g) ?? []).reduce((n, m) => n + Number(m.split(' ')[1]), 0);
const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
const doc = DynamoDBDocumentClient.from(sys.gw.dynamo.client);
const logItems = (await doc.send(new QueryCommand({ TableName: sys.gw.dynamo.tables.responses, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${bgId}#ev` } }))).Items ?? [];
const logBytes = logItems.reduce((n, it) => n + (it.blob as Uint8Array).length, 0);
const events = sseEvents(await (await fetch(`${sys.base}/responses/${bgId}?stream=true`)).text());
bgBytes = events.reduce((n, e) => n + JSON.stringify(e.data).length, 0);

await measure('cancel (a completed one: read only)', () => postJson(`${sys.base}/responses/${bgId}/cancel`, {}));
await measure(`replay a finished background stream (${events.length} events)`, () => fetch(`${sys.base}/responses/${bgId}?stream=true`).then((r) => r.text()));

await sys.close();

console.log(`\nDynamoDB requests per operation (counted with countCalls on the gateway's client)\n`);
console.log('| operation | requests |\n| --- | --- |');
for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
console.log(`\nbackground response of ${TOKENS} tokens: ${writes} writes (PutItem + UpdateItem; the Query count above includes this script's own status polls)`);
console.log(`its event log: ${events.length} events, ${bgBytes} bytes of JSON, stored as ${logItems.length} items of ${logBytes} gzip bytes in all`);

// Sequential round trips before the upstream call, with everything on (the cache, a concurrency
// limit with its slot leases in DynamoDB as on Lambda: a gateway on a shared table, storage).
{
  const [dyn, u] = await Promise.all([startDynalite(), startFakeUpstream({ flavor: 'ollama', models: ['m:latest'] })]);
  const gw = await startGateway({ configYaml: `endpoints: ["${u.url}"]\nmax_concurrent_connections: 2\ncache_enabled: true\nmodel_list_ttl_ms: 600000\n`, dynamoEndpoint: dyn.endpoint });
  const c = countCalls(gw.dynamo.client);
  const post = (body: object) => postJson(`${gw.url}/v1/responses`, { model: 'm', ...body });
  await post({ input: 'warm up' });
  const before = async (body: object) => {
    await new Promise((r) => setTimeout(r, 30));
    c.reset();
    const seen = u.requests.length;
    await post(body);
    return sequentialBefore(c.calls, u.requests.slice(seen).find((r) => r.path === '/v1/chat/completions')!.receivedAtHr);
  };
  let prev: string | undefined;
  for (let i = 0; i < 10; i++) prev = (await post({ input: `turn ${i}`, previous_response_id: prev })).json.id;
  const unchained = await before({ input: 'unchained' });
  const chained = await before({ input: 'turn 11', previous_response_id: prev });
  await gw.close();
  await Promise.all([dyn.close(), u.close()]);
  console.log('\nSequential DynamoDB round trips before the upstream call (cache, limit with leases in DynamoDB, store all on)\n');
  console.log('| create | round trips | target |\n| --- | ---: | ---: |');
  console.log(`| unchained | ${unchained} | 1 |\n| on a 10-turn chain | ${chained} | 2 |`);
  console.log(`\n${target('round trips before the upstream call, unchained create', unchained, '<=', 1)}`);
  console.log(target('round trips before the upstream call, create on a 10-turn chain', chained, '<=', 2));
}
