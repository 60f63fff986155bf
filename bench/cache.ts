// Latency of a cache hit versus a miss, in one run, through the real handler over HTTP with
// dynalite and a fake Ollama upstream that waits 200 ms before answering. A miss goes to the
// upstream (and then writes the entry); a hit is one GetItem and no upstream call.
//   Run: node_modules/.bin/node --import tsx bench/cache.ts
import './quiet.ts';
import { startSystem } from '../test/helpers/harness.ts';

const RUNS = Number(process.env.RUNS ?? 20);
const DELAY_MS = Number(process.env.DELAY_MS ?? 200);

const sys = await startSystem({ upstreams: [{ flavor: 'ollama', models: ['m:latest'] }] });
const up = sys.upstreams[0]!;
up.fallback = { text: 'The answer, from the model, in a few words.', delayMs: DELAY_MS };

async function timed(input: string, stream: boolean): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${sys.base}/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', input, stream, nomyo: { cache: true } }),
  });
  await res.text();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[] = [];
await timed('warm-up', false); await timed('warm-up', true);
for (const stream of [false, true]) {
  const miss: number[] = [];
  const hit: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const input = `question ${stream ? 's' : 'j'}${i}`;
    const calls = up.requests.length;
    miss.push(await timed(input, stream));
    hit.push(await timed(input, stream));
    if (up.requests.filter((r) => r.path === '/v1/chat/completions').length - calls > 1) throw new Error('a hit reached the upstream');
  }
  const m = median(miss);
  const h = median(hit);
  rows.push(`| ${stream ? 'stream: true (to the last event)' : 'JSON'} | ${m.toFixed(1)} | ${h.toFixed(1)} | ${(m / h).toFixed(1)} |`);
}
const stats = await (await fetch(`${sys.base}/cache/stats`)).json();
await sys.close();

console.log(`\nCache hit vs miss (median of ${RUNS} each; upstream answers after ${DELAY_MS} ms)\n`);
console.log('| request | miss ms | hit ms | miss / hit |\n| --- | --- | --- | --- |');
for (const r of rows) console.log(r);
console.log(`\n/v1/cache/stats after the run: ${JSON.stringify(stats)}`);
