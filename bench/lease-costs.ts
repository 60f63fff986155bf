// DynamoDB calls a concurrency-slot lease costs, counted on the wire (countCalls) against
// dynalite through the real adapter (shared/adapters/dynamo/slots.ts). Counts, not timings:
// the same on any machine.  Run: node_modules/.bin/node --import tsx bench/lease-costs.ts
import './quiet.ts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynalite } from '../shared/adapters/dynalite.ts';
import { countCalls } from '../test/helpers/count-calls.ts';
import { DynamoSlotStore } from '../shared/adapters/dynamo/slots.ts';
import { SlotLeases } from '../shared/routing/slots.ts';
import { systemClock } from '../shared/ports.ts';

const local = await startDynalite();
const store = new DynamoSlotStore(DynamoDBDocumentClient.from(local.client), local.tables.responses);
const counter = countCalls(local.client);
const proc = () => new SlotLeases(store, systemClock, { max: 2, leaseMs: 30_000 });
const rows: Array<[string, string]> = [];

async function measure<T>(name: string, fn: () => Promise<T>): Promise<T> {
  counter.reset();
  const out = await fn();
  const by = Object.entries(counter.byCommand).map(([k, v]) => `${k} ${v}`).join(', ');
  rows.push([name, `${counter.count} (${by || 'none'})`]);
  return out;
}

const a = proc(), b = proc();
const first = await measure('acquire, uncontended', () => a.tryAcquire('ep|m', true));
const second = await measure('acquire, contended (another process holds the slot tried first)', () => b.tryAcquire('ep|m', true));
await measure('acquire, saturated: first try (fails)', () => proc().tryAcquire('ep|m', true));
await measure('acquire, saturated: each later poll (fails)', () => proc().tryAcquire('ep|m', false));
await measure('acquire, saturated, by the process that holds every slot (fails)', () => a.tryAcquire('ep|m2', true).then(() => a.tryAcquire('ep|m2', true)).then(() => { counter.reset(); return a.tryAcquire('ep|m2', true); }));
await measure('renew (heartbeat, every slot_lease_ms / 3 while held)', () => store.renew('ep|m', first!.slot, 'nobody', Date.now() + 30_000));
await measure('release', () => first!.release());
await second!.release();
await local.close();

console.log('\nDynamoDB requests per slot-lease operation (max_concurrent_connections: 2)\n');
console.log('| operation | requests |\n| --- | --- |');
for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
