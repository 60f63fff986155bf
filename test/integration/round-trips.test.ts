// DynamoDB round trips a create waits for before its upstream call starts (issue: overhead that
// does not depend on settings): the reads run side by side, so with the cache, a concurrency
// limit (slot leases in DynamoDB, as on Lambda) and storage all on, an unchained create waits for
// one round trip and a chained one for two. Counted on the wire (test/helpers/count-calls.ts).
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
