// `npm run demo`: a short tour on a fresh machine with no model server. It starts the gateway
// (in-memory DynamoDB, the local workflow runner) in front of a scripted local upstream that
// speaks Ollama's API, then drives it with the official openai SDK and prints what each step shows.
import OpenAI from 'openai';
import { startGateway } from '../../functions/local/gateway.ts';
import { startFakeUpstream, type RecordedRequest, type Reply } from '../helpers/fake-upstream.ts';

const upstream = await startFakeUpstream({ flavor: 'ollama', models: ['demo-model:latest'] });
// The scripted model: answers by looking at the conversation it is sent.
upstream.fallback = (req: RecordedRequest): Reply => {
  const messages = req.body?.messages ?? [];
  const last = messages.at(-1);
  const text = JSON.stringify(messages);
  if (last?.role === 'tool') return { text: `It is ${JSON.parse(last.content).celsius} °C in Paris right now.`, chunkDelayMs: 5 };
  if (req.body?.tools && /weather/i.test(text)) return { toolCalls: [{ id: 'call_demo1', name: 'get_weather', arguments: '{"city":"Paris"}' }] };
  if (/long essay/i.test(text)) return { text: 'word '.repeat(400), chunkSize: 5, chunkDelayMs: 10 };
  if (/double it/i.test(text)) return { text: 'Doubled: 84.', chunkDelayMs: 5 };
  return { text: 'The answer is 42.', chunkDelayMs: 5 };
};

const gw = await startGateway({
  configYaml: `endpoints:\n  - "${upstream.url}"\nmodel_list_ttl_ms: 60000\nflush_ms: 100\npoll_ms: 50\n`,
});
const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'demo' });
const model = 'demo-model';
const step = (title: string) => console.log(`\n\x1b[1m== ${title}\x1b[0m`);

try {
  step('1. A streamed answer (client.responses.stream)');
  const stream = client.responses.stream({ model, input: 'What is the answer to everything?' });
  process.stdout.write('   ');
  stream.on('response.output_text.delta', (e) => process.stdout.write(e.delta));
  const first = await stream.finalResponse();
  console.log(`\n   id ${first.id}, status ${first.status}, usage ${JSON.stringify(first.usage)}`);

  step('2. A chained follow-up (previous_response_id: the gateway keeps the history)');
  const second = await client.responses.create({ model, input: 'Now double it.', previous_response_id: first.id });
  console.log(`   ${second.output_text}`);
  const sent = upstream.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body.messages;
  console.log(`   the model was sent ${sent.length} messages: ${sent.map((m: { role: string }) => m.role).join(', ')}`);

  step('3. A tool call round trip');
  const tools = [{ type: 'function' as const, name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false }];
  const call = await client.responses.create({ model, input: "What's the weather in Paris?", tools });
  const fc = call.output.find((o) => o.type === 'function_call')!;
  if (fc.type !== 'function_call') throw new Error('expected a function call');
  console.log(`   the model calls ${fc.name}(${fc.arguments})`);
  const answer = await client.responses.create({
    model, tools, previous_response_id: call.id,
    input: [{ type: 'function_call_output', call_id: fc.call_id, output: JSON.stringify({ celsius: 18 }) }],
  });
  console.log(`   with the tool's result: ${answer.output_text}`);

  step('4. A background job, polled to the end');
  let job = await client.responses.create({ model, input: 'Write a long essay.', background: true });
  console.log(`   created: ${job.status}`);
  while (job.status === 'queued' || job.status === 'in_progress') {
    await new Promise((r) => setTimeout(r, 300));
    job = await client.responses.retrieve(job.id);
    console.log(`   ${job.status}: ${job.output_text.length} characters so far`);
  }

  step('5. A background job, cancelled while it runs');
  const doomed = await client.responses.create({ model, input: 'Write another long essay.', background: true });
  await new Promise((r) => setTimeout(r, 500));
  const cancelled = await client.responses.cancel(doomed.id);
  console.log(`   cancelled: status ${cancelled.status}, ${cancelled.output_text.length} characters were written before the cancel`);

  step('6. A cache hit (extension nomyo: {cache: true})');
  const ask = () => client.responses.create({ model, input: 'Cache me if you can.', nomyo: { cache: true } } as never) as Promise<OpenAI.Responses.Response>;
  const before = upstream.requests.length;
  const t0 = performance.now();
  const miss = await ask();
  const t1 = performance.now();
  const hit = await ask();
  const t2 = performance.now();
  console.log(`   miss: ${(t1 - t0).toFixed(1)} ms, hit: ${(t2 - t1).toFixed(1)} ms, same text: ${miss.output_text === hit.output_text}, new id: ${miss.id !== hit.id}`);
  console.log(`   the model was called ${upstream.requests.filter((r, i) => i >= before && r.path === '/v1/chat/completions').length} time(s) for the two requests`);

  console.log('\nDone. Point your own client at http://127.0.0.1:12434/v1 after `npm start`.');
} finally {
  await gw.close();
  await upstream.close();
}
