// A stored answer is there the moment its client has it (issue: overhead that does not depend on
// settings): under load (48 clients at once through a concurrency limit of 4), each client's
// retrieve and its `previous_response_id` sent right after the answer find it, on a table shared
// as Lambda instances share one (slot leases in DynamoDB) and on a gateway that owns its
// database. The slot's release now follows the answer; the record's write never does.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../../functions/local/gateway.ts';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';

const CLIENTS = 48;

let up: FakeUpstream;
let dynamo: LocalDynamo;
beforeAll(async () => {
  [up, dynamo] = await Promise.all([startFakeUpstream({ flavor: 'vllm', models: ['m'] }), startDynalite()]);
});
afterAll(() => Promise.all([up.close(), dynamo.close()]));

describe.each([
  ['on a shared table (slot leases in DynamoDB)', true],
  ['on a gateway that owns its database', false],
])('read right after the answer, %s', (_name, shared) => {
  let gw: Gateway;
  let client: OpenAI;
  beforeAll(async () => {
    gw = await startGateway({
      configYaml: `endpoints: ["${up.url}"]\nmax_concurrent_connections: 4\nslot_wait_ms: 30000\n`,
      ...(shared ? { dynamoEndpoint: dynamo.endpoint } : {}),
    });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(() => gw.close());

  it(`${CLIENTS} clients at once: each retrieve and each chained create right after an answer finds it`, async () => {
    const results = await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
      const stream = i % 2 === 1;
      const input = `question ${i}`;
      let first: OpenAI.Responses.Response;
      if (stream) {
        let done: OpenAI.Responses.Response | undefined;
        for await (const ev of await client.responses.create({ model: 'm', input, stream: true })) if (ev.type === 'response.completed') done = ev.response;
        first = done!;
      } else first = await client.responses.create({ model: 'm', input });
      const [got, next] = await Promise.all([
        client.responses.retrieve(first.id),
        client.responses.create({ model: 'm', input: `follow-up ${i}`, previous_response_id: first.id }),
      ]);
      return { first, got, next, input };
    }));
    for (const { first, got, next, input } of results) {
      expect(got.status).toBe('completed');
      expect(got.output).toEqual(first.output);
      expect(next.status).toBe('completed');
      // The chained call carried the first turn to the model.
      const sent = up.requests.find((r) => r.body?.messages?.some((m: { content: unknown }) => m.content === `follow-up ${input.split(' ')[1]}`))!;
      expect(sent.body.messages.map((m: { content: unknown }) => m.content)).toContain(input);
    }
  });
});
