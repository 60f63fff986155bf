// The bundles under the real Lambda runtime client (test/lambda-runtime/): cold init (process
// spawn until the runtime first asks for an event: Node, the client, importing the bundle) and
// warm round trips through the Runtime API emulator. Figures for docs/benchmarks.md, printed only.
// Run: node_modules/.bin/node --import tsx bench/lambda-runtime.ts [--runs N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynalite } from '../shared/adapters/dynalite.ts';
import { startFakeUpstream } from '../test/helpers/fake-upstream.ts';
import { bundleAll, functionUrlEvent, runtimeMissing, startRuntime, type FunctionId } from '../test/lambda-runtime/runtime.ts';
import { median, quantile } from './lib.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 5;
const missing = runtimeMissing();
if (missing) throw new Error(missing);

const ms = (x: number) => `${x.toFixed(1)} ms`;

const dir = mkdtempSync(join(tmpdir(), 'gw-bench-ric-'));
const [bundles, dynamo, upstream] = await Promise.all([bundleAll(dir), startDynalite(), startFakeUpstream({ flavor: 'ollama', models: ['m:latest'] })]);
upstream.fallback = { text: 'a short answer' };
const env = {
  CONFIG_JSON: JSON.stringify({ endpoints: [upstream.url], max_concurrent_connections: 0 }),
  DYNAMODB_ENDPOINT: dynamo.endpoint, RESPONSES_TABLE: dynamo.tables.responses, CACHE_TABLE: dynamo.tables.cache,
};
try {
  console.log(`| function | cold init, median of ${runs} (min..max) |\n| --- | ---: |`);
  for (const id of ['Api', 'Worker', 'Sweeper'] as FunctionId[]) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const rt = await startRuntime(id, bundles[id], env);
      times.push(performance.now() - t0);
      await rt.close();
    }
    console.log(`| ${id} | ${ms(median(times))} (${ms(Math.min(...times))}..${ms(Math.max(...times))}) |`);
  }

  const api = await startRuntime('Api', bundles.Api, env);
  const round = async (n: number, event: () => unknown) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await api.invoke(event());
      if (r.mode !== 'streaming' || r.statusCode !== 200) throw new Error(`${r.mode} ${r.statusCode} ${r.body.toString()}`);
      times.push(performance.now() - t0);
    }
    return times;
  };
  await round(50, () => functionUrlEvent({ path: '/health' })); // warm-up
  const health = await round(300, () => functionUrlEvent({ path: '/health' }));
  const post = () => functionUrlEvent({ path: '/v1/responses', body: JSON.stringify({ model: 'm', input: 'hi', store: false }) });
  await round(50, post);
  const json = await round(300, post);
  console.log('\n| warm invocation (300, sequential) | p50 | p90 | p99 |\n| --- | ---: | ---: | ---: |');
  for (const [name, xs] of [['GET /health', health], ['POST /v1/responses (store: false)', json]] as const) {
    console.log(`| ${name} | ${ms(quantile(xs, 0.5))} | ${ms(quantile(xs, 0.9))} | ${ms(quantile(xs, 0.99))} |`);
  }
  await api.close();
} finally {
  await Promise.all([dynamo.close(), upstream.close()]);
  rmSync(dir, { recursive: true, force: true });
}
