// The local server's DynamoDB calls: the SDK client over HTTP to dynalite on loopback (SigV4
// signed, as any DynamoDB endpoint), versus the in-process transport `startDynalite` gives the
// process that runs dynalite (shared/adapters/dynalite.ts inProcessClient). Same SDK stack, same
// dynalite and LevelDB (in memory), same process; CPU per call from process.cpuUsage, the two
// transports alternating in batches so machine noise hits both.
// Run: node_modules/.bin/node --import tsx bench/dynalite-transport.ts [--calls N]
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { localClient, startDynalite } from '../shared/adapters/dynalite.ts';
import { f, median, table } from './lib.ts';

const args = process.argv.slice(2);
const calls = Number(args.includes('--calls') ? args[args.indexOf('--calls') + 1] : 2000);
const local = await startDynalite();
const clients = { 'in process': DynamoDBDocumentClient.from(local.client), 'HTTP over loopback': DynamoDBDocumentClient.from(localClient(local.endpoint)) };
const TableName = local.tables.responses;
const item = (k: string) => ({ pk: k, sk: 'r', body: 'x'.repeat(1000), n: 1 });

type Op = 'PutItem (1 KB item, conditional)' | 'GetItem';
const perCall = new Map<string, number[]>();
let seq = 0;
async function batch(name: keyof typeof clients, op: Op, n: number): Promise<void> {
  const doc = clients[name];
  const keys = Array.from({ length: n }, () => `bench#${++seq}`);
  if (op === 'GetItem') for (const k of keys) await doc.send(new PutCommand({ TableName, Item: item(k) }));
  const t0 = process.cpuUsage();
  for (const k of keys) {
    if (op === 'GetItem') await doc.send(new GetCommand({ TableName, Key: { pk: k, sk: 'r' } }));
    else await doc.send(new PutCommand({ TableName, Item: item(k), ConditionExpression: 'attribute_not_exists(pk)' }));
  }
  const t = process.cpuUsage(t0);
  const key = `${name}|${op}`;
  perCall.set(key, [...(perCall.get(key) ?? []), (t.user + t.system) / n]);
}

const ops: Op[] = ['PutItem (1 KB item, conditional)', 'GetItem'];
for (const name of Object.keys(clients) as Array<keyof typeof clients>) for (const op of ops) await batch(name, op, 200); // warm-up
const rounds = 6;
for (let r = 0; r < rounds; r++) {
  for (const op of ops) {
    const order = (r % 2 ? ['HTTP over loopback', 'in process'] : ['in process', 'HTTP over loopback']) as Array<keyof typeof clients>;
    for (const name of order) await batch(name, op, Math.ceil(calls / rounds));
  }
}
await local.close();

console.log(`\nCPU per DynamoDB call, µs (median of ${rounds} batches of ${Math.ceil(calls / rounds)} calls each; one process: client, dynalite, LevelDB in memory)\n`);
console.log(table(['operation', 'HTTP over loopback (µs)', 'in process (µs)', 'in process / HTTP'], ops.map((op) => {
  const http = median(perCall.get(`HTTP over loopback|${op}`)!);
  const inproc = median(perCall.get(`in process|${op}`)!);
  return [op, f(http, 0), f(inproc, 0), f(inproc / http, 2)];
})));
