// The added delay of a live background stream versus a foreground one, measured in one run
// against the same fake upstream (20 deltas, 20 ms apart). Foreground events go straight from
// the upstream to the client; background events go upstream -> worker -> DynamoDB log -> the
// API's reader -> client. The gateway is npm start's code in a process of its own (as in every
// other bench), so the client and the upstream here cost it no CPU.
// Run: node_modules/.bin/node --import tsx bench/background-latency.ts
import { startFakeUpstream } from '../test/helpers/fake-upstream.ts';
import { median, spawnGateway, target } from './lib.ts';

const RUNS = Number(process.env.RUNS ?? 30);
const POLL_MS = Number(process.env.POLL_MS ?? 200);
const FLUSH_MS = Number(process.env.FLUSH_MS ?? 500);

const up = await startFakeUpstream({ flavor: 'ollama', models: ['m:latest'] });
const gw = await spawnGateway({ upstreamUrl: up.url, extraConfig: `flush_ms: ${FLUSH_MS}\npoll_ms: ${POLL_MS}\nmodel_list_ttl_ms: 600000` });
const sys = { base: `${gw.url}/v1`, close: async () => { await gw.stop(); await up.close(); } };

async function timeStream(background: boolean): Promise<{ firstDelta: number; end: number }> {
  up.script({ deltas: Array.from({ length: 20 }, (_, i) => `w${i} `), chunkDelayMs: 20 });
  const t0 = performance.now();
  const res = await fetch(`${sys.base}/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', input: 'x', stream: true, background }),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let firstDelta = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (!firstDelta && text.includes('response.output_text.delta')) firstDelta = performance.now() - t0;
  }
  return { firstDelta, end: performance.now() - t0 };
}

const fg: Array<{ firstDelta: number; end: number }> = [];
const bg: Array<{ firstDelta: number; end: number }> = [];
for (let i = 0; i < 5; i++) { await timeStream(false); await timeStream(true); } // warm-up
for (let i = 0; i < RUNS; i++) {
  fg.push(await timeStream(false));
  bg.push(await timeStream(true));
}
await sys.close();

const row = (name: string, k: 'firstDelta' | 'end') => {
  const f = median(fg.map((r) => r[k]));
  const b = median(bg.map((r) => r[k]));
  return `| ${name} | ${f.toFixed(1)} | ${b.toFixed(1)} | ${(b - f).toFixed(1)} | ${(b / f).toFixed(2)} |`;
};
console.log(`\nLive background stream vs foreground stream (median of ${RUNS}; poll_ms ${POLL_MS}, flush_ms ${FLUSH_MS}; upstream: 20 deltas 20 ms apart)\n`);
console.log('| measure | foreground ms | background ms | added ms | background / foreground |\n| --- | --- | --- | --- | --- |');
console.log(row('time to first text delta', 'firstDelta'));
console.log(row('time to the end of the stream', 'end'));
console.log(`\n${target('live background stream, first delta / foreground', median(bg.map((r) => r.firstDelta)) / median(fg.map((r) => r.firstDelta)), '<=', 2)}`);
