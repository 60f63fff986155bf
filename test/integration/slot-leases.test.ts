// Slot leases on dynalite through the DynamoDB adapter: the conditions hold, and a lease costs
// the DynamoDB calls docs/benchmarks.md states (counted on the wire with countCalls).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { countCalls, type CallCounter } from '../helpers/count-calls.ts';
import { DynamoSlotStore } from '../../shared/adapters/dynamo/slots.ts';
import { SlotLeases } from '../../shared/routing/slots.ts';
import { systemClock } from '../../shared/ports.ts';

let local: LocalDynamo;
let store: DynamoSlotStore;
let calls: CallCounter;
let n = 0;
const newKey = () => `http://up:${++n}|m:latest`;
/** Two processes' worth of leases (each its own SlotLeases) on one table. */
const proc = (max = 2, leaseMs = 30_000) => new SlotLeases(store, systemClock, { max, leaseMs });

beforeAll(async () => {
  local = await startDynalite();
  store = new DynamoSlotStore(DynamoDBDocumentClient.from(local.client), local.tables.responses);
  calls = countCalls(local.client);
});
afterAll(() => local?.close());

async function counted<T>(fn: () => Promise<T>): Promise<[T, Record<string, number>]> {
  calls.reset();
  const out = await fn();
  return [out, { ...calls.byCommand }];
}

describe('slot leases on DynamoDB', () => {
  it('acquire, uncontended: 1 PutItem; release: 1 DeleteItem', async () => {
    const key = newKey();
    const [lease, acquire] = await counted(() => proc().tryAcquire(key, true));
    expect(acquire).toEqual({ PutItem: 1 });
    const [, release] = await counted(() => lease!.release());
    expect(release).toEqual({ DeleteItem: 1 });
    expect(await store.held(key, Date.now())).toEqual([]);
  });

  it('acquire, contended (another process has the slot tried first): PutItem, Query, PutItem', async () => {
    const key = newKey();
    const other = await proc().tryAcquire(key, true);
    const [lease, cost] = await counted(() => proc().tryAcquire(key, true));
    expect(cost).toEqual({ PutItem: 2, Query: 1 });
    expect([other!.slot, lease!.slot].sort()).toEqual([0, 1]);
    await Promise.all([other!.release(), lease!.release()]);
  });

  it('saturated: the first try costs PutItem + Query, each later poll one Query', async () => {
    const key = newKey();
    const other = proc();
    const held = [await other.tryAcquire(key, true), await other.tryAcquire(key, true)];
    expect(held.map((l) => l!.slot)).toEqual([0, 1]);
    const me = proc();
    expect(await counted(() => me.tryAcquire(key, true))).toEqual([null, { PutItem: 1, Query: 1 }]);
    expect(await counted(() => me.tryAcquire(key, false))).toEqual([null, { Query: 1 }]);
    // The holder's own process knows it holds them all: no call at all.
    expect(await counted(() => other.tryAcquire(key, true))).toEqual([null, {}]);
    await Promise.all(held.map((l) => l!.release()));
  });

  it('no limit (max 0): no DynamoDB call at all, any number held, counted in flight for ranking', async () => {
    const key = newKey();
    const me = proc(0);
    const [leases, cost] = await counted(() => Promise.all(Array.from({ length: 20 }, () => me.tryAcquire(key, true))));
    expect(cost).toEqual({});
    expect(leases.every(Boolean)).toBe(true);
    expect(me.inUse(key)).toBe(20);
    const [, freed] = await counted(async () => { for (const l of leases) { await l!.release(); await l!.release(); } });
    expect(freed).toEqual({});
    expect(me.inUse(key)).toBe(0); // released twice each: counted down once
    expect(await store.held(key, Date.now())).toEqual([]);
  });

  it('renew: 1 UpdateItem, only for the holder', async () => {
    const key = newKey();
    const lease = await proc().tryAcquire(key, true);
    const [ok, cost] = await counted(() => store.renew(key, lease!.slot, 'someone else', Date.now() + 1000));
    expect([ok, cost]).toEqual([false, { UpdateItem: 1 }]);
    await lease!.release();
    expect(await store.renew(key, lease!.slot, 'anyone', Date.now() + 1000)).toBe(false); // released: not resurrected
    expect(await store.held(key, Date.now())).toEqual([]);
  });

  it("an expired lease (a dead holder's) is taken over with one PutItem; a live one is not", async () => {
    const key = newKey();
    expect(await store.take(key, 0, 'dead', Date.now() + 1000, Date.now())).toBe(true);
    expect(await proc(1).tryAcquire(key, true)).toBeNull();
    await new Promise((r) => setTimeout(r, 1100));
    const [lease, cost] = await counted(() => proc(1).tryAcquire(key, true));
    expect(cost).toEqual({ PutItem: 1 });
    // The dead holder can neither renew nor free what is now someone else's.
    expect(await store.renew(key, 0, 'dead', Date.now() + 1000)).toBe(false);
    await store.release(key, 0, 'dead');
    expect(await store.held(key, Date.now())).toEqual([0]);
    await lease!.release();
  });

  it('a held lease is renewed by its heartbeat (every third of the lease)', async () => {
    const key = newKey();
    const lease = await proc(1, 300).tryAcquire(key, true);
    await new Promise((r) => setTimeout(r, 700));
    expect(await proc(1, 300).tryAcquire(key, false)).toBeNull(); // still held, well past 300 ms
    await lease!.release();
    expect(await store.held(key, Date.now())).toEqual([]);
  });
});
