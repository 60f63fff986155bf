// DynamoDB round trips a create waits for before its upstream call starts (issue: overhead that
// does not depend on settings): the reads run side by side, so with the cache, a concurrency
// limit (slot leases in DynamoDB, as on Lambda) and storage all on, an unchained create waits for
// one round trip and a chained one for two. Counted on the wire (test/helpers/count-calls.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../functions/local/gateway.ts';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { countCalls, sequentialBefore, type CallCounter } from '../helpers/count-calls.ts';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { postJson } from '../helpers/harness.ts';

let dynamo: LocalDynamo;
let up: FakeUpstream;
let gw: Gateway;
let calls: CallCounter;

beforeAll(async () => {
  [dynamo, up] = await Promise.all([startDynalite(), startFakeUpstream({ flavor: 'ollama', models: ['m:latest'] })]);
  // On a shared table, as Lambda instances are: slot leases are DynamoDB writes.
  gw = await startGateway({
    configYaml: `endpoints: ["${up.url}"]\nmax_concurrent_connections: 2\ncache_enabled: true\nmodel_list_ttl_ms: 600000\n`,
    dynamoEndpoint: dynamo.endpoint,
  });
  calls = countCalls(gw.dynamo.client);
  await postJson(`${gw.url}/v1/responses`, { model: 'm', input: 'warm up' }); // the model list is read once
});
afterAll(async () => {
  await gw.close();
  await Promise.all([dynamo.close(), up.close()]);
});

/** Sequential DynamoDB round trips before the upstream call of `body`'s create. */
async function roundTripsBeforeUpstream(body: object): Promise<number> {
  await new Promise((r) => setTimeout(r, 30)); // earlier writes (slot releases) done
  calls.reset();
  const seen = up.requests.length;
  const res = await postJson(`${gw.url}/v1/responses`, { model: 'm', ...body });
  expect(res.status).toBe(200);
  const call = up.requests.slice(seen).find((r) => r.path === '/v1/chat/completions')!;
  return sequentialBefore(calls.calls, call.receivedAtHr);
}

describe('round trips before the upstream call (cache lookup, slot lease, storage all on)', () => {
  it('an unchained create: one', async () => {
    expect(await roundTripsBeforeUpstream({ input: 'unchained' })).toBe(1);
  });

  it('a create on a 10-turn chain: two (the chain read), everything else beside them', async () => {
    let prev: string | undefined;
    for (let i = 0; i < 10; i++) prev = (await postJson(`${gw.url}/v1/responses`, { model: 'm', input: `turn ${i}`, previous_response_id: prev })).json.id;
    expect(await roundTripsBeforeUpstream({ input: 'turn 11', previous_response_id: prev })).toBeLessThanOrEqual(2);
  });

  it('a create in a conversation, and one with item references: one', async () => {
    const conv = (await postJson(`${gw.url}/v1/conversations`, { items: [{ role: 'user', content: 'earlier' }] })).json.id;
    expect(await roundTripsBeforeUpstream({ input: 'in a conversation', conversation: conv })).toBe(1);
    const first = (await postJson(`${gw.url}/v1/responses`, { model: 'm', input: 'referenced' })).json;
    expect(await roundTripsBeforeUpstream({ input: [{ type: 'item_reference', id: first.output[0].id }, { role: 'user', content: 'and?' }] })).toBe(1);
  });
});

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/**
 * The DynamoDB writes sent after the upstream's last byte and before the gateway handed the
 * client its last byte (the response's 'finish'), for `body`'s create: what the client waits
 * for once the model is done.
 */
async function writesAfterUpstream(body: object): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 30));
  calls.reset();
  const seen = up.requests.length;
  let sentAll = Infinity;
  const onRequest = (_req: IncomingMessage, res: ServerResponse) => res.once('finish', () => { sentAll = performance.now(); });
  gw.server.once('request', onRequest);
  const res = await fetch(`${gw.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', ...body }) });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const call = up.requests.slice(seen).find((r) => r.path === '/v1/chat/completions')!;
  return calls.calls.filter((c) => WRITES.has(c.command) && c.start >= call.answeredAtHr! && c.start <= sentAll).map((c) => c.command);
}

describe('writes between the upstream\'s last byte and the client\'s (storage and a concurrency limit on a shared table)', () => {
  it('a stored JSON answer: one, the record; the slot is released after the answer', async () => {
    expect(await writesAfterUpstream({ input: 'stored json', nomyo: { cache: false } })).toEqual(['PutItem']);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls.byCommand.DeleteItem).toBe(1);
  });

  it('a stored stream: one, its final state; the slot is released after the stream ends', async () => {
    up.script({ text: 'a streamed answer in several chunks', chunkDelayMs: 15 });
    expect(await writesAfterUpstream({ input: 'stored stream', stream: true, nomyo: { cache: false } })).toEqual(['UpdateItem']);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls.byCommand.DeleteItem).toBe(1);
  });

  it('with the cache on too: the record and the cache entry (a setting of its own), nothing else', async () => {
    expect(await writesAfterUpstream({ input: 'stored and cached' })).toEqual(['PutItem', 'PutItem']);
  });
});
