// Peak RSS of the local server under 200 concurrent streams: `npm start` in its own process, its
// VmRSS sampled every 50 ms and its VmHWM (the kernel's peak) read at the end, while 200 clients
// hold streams open at once (100 deltas 100 ms apart each, about 10 s). npm start runs with no
// concurrency limit (GATEWAY_CONFIG: no slot lease). Store on (the default, with dynalite in the
// process) and store off, each in a fresh process; the minimal proxy (bench/minimal-proxy.ts) under
// the same 200 streams is the baseline.
// Run: node_modules/.bin/node --import tsx bench/memory.ts
import { GATEWAY_CONFIG, f, isMain, load, machine, memMiB, spawnGateway, spawnMinimalProxy, spawnUpstream, sleep, table, type Child, type Section } from './lib.ts';
import { directBody, gatewayBody, isDirectDelta, isGatewayDelta } from './latency.ts';

const STREAMS = Number(process.env.MEM_STREAMS ?? 200);
const MODEL = 's100x100';

interface MemRun { name: string; idle: number; peakSampled: number; hwm: number; maxOpen: number; complete: number; ms: number }

async function underStreams(name: string, child: Child, url: string, body: () => string, isDelta: (frame: string) => boolean): Promise<MemRun> {
  // Warm-up: a few streams and requests, so lazy start-up work is not counted as load.
  await load({ concurrency: 4, maxRequests: 8, maxMs: 30_000, url, body, mark: isDelta });
  await sleep(500);
  const idle = memMiB(child.pid).rss;
  let peakSampled = idle;
  const sampler = setInterval(() => { peakSampled = Math.max(peakSampled, memMiB(child.pid).rss); }, 50);
  const t0 = performance.now();
  const r = await load({ concurrency: STREAMS, maxRequests: STREAMS, maxMs: 60_000, url, keepResults: true, body, mark: isDelta });
  const ms = performance.now() - t0;
  clearInterval(sampler);
  const complete = r.results.filter((x) => x.status === 200 && x.marks.length === 100).length;
  // Streams overlapped when each one's first delta came before the earliest end (all 200 are sent
  // at once, so times from each one's send are times from the start).
  const firstEnd = Math.min(...r.results.map((x) => x.end));
  const maxOpen = r.results.filter((x) => x.marks[0]! < firstEnd).length;
  return { name, idle, peakSampled: Math.max(peakSampled, memMiB(child.pid).rss), hwm: memMiB(child.pid).hwm, maxOpen, complete, ms };
}

export async function run(): Promise<Section> {
  const up = await spawnUpstream();
  const runs: MemRun[] = [];
  try {
    for (const store of [true, false]) {
      const gw = await spawnGateway({ upstreamUrl: up.url, extraConfig: GATEWAY_CONFIG });
      try {
        runs.push(await underStreams(`npm start, store ${store ? 'on' : 'off'}`, gw, `${gw.url}/v1/responses`, () => gatewayBody(MODEL, store, true), isGatewayDelta));
      } finally {
        await gw.stop();
      }
      console.error(`memory: store ${store ? 'on' : 'off'} done`);
    }
    const proxy = await spawnMinimalProxy(up);
    try {
      runs.push(await underStreams('minimal proxy (baseline)', proxy, `${proxy.url}/v1/chat/completions`, () => directBody(MODEL, true), isDirectDelta));
    } finally {
      await proxy.stop();
    }
  } finally {
    await up.stop();
  }
  const base = runs.at(-1)!;
  const rows = runs.map((r) => [
    r.name, `${r.complete}/${STREAMS}`, String(r.maxOpen), f(r.ms, 0), f(r.idle, 1), f(r.hwm, 1), f(r.hwm - r.idle, 1),
    f(((r.hwm - r.idle) * 1024) / STREAMS, 0), r === base ? '' : f((r.hwm - r.idle) / (base.hwm - base.idle), 1),
  ]);
  const body = [
    `Command: \`node_modules/.bin/node --import tsx bench/memory.ts\` (also part of \`npm run bench\`). ${machine()}. Each server is a fresh process`,
    `(the bench's node with \`--import tsx\`, so the TypeScript loader is part of every figure; npm start with \`${GATEWAY_CONFIG}\`,`,
    'no concurrency limit, so no slot lease is held per stream); after a warm-up of 8 streams its',
    `RSS is read idle, then ${STREAMS} clients each open one stream at the same moment (the upstream: 100 one-word deltas`,
    '100 ms apart, 10 s a stream); RSS is sampled every 50 ms and the peak is the kernel\'s VmHWM at the end. "Overlapping" counts the',
    'streams whose first delta arrived before the first stream ended. "Complete" streams have all 100 deltas.',
    '',
    table(['server', 'complete', 'overlapping', 'wall ms', 'idle RSS MiB', 'peak RSS MiB', 'peak - idle MiB', 'KiB per stream', 'added / baseline\'s'], rows),
  ].join('\n');
  const on = runs[0]!;
  return {
    heading: '## Memory under 200 concurrent streams',
    body,
    summary: [`peak RSS under ${STREAMS} concurrent streams (store on): ${f(on.hwm, 1)} MiB (idle ${f(on.idle, 1)} MiB, +${f(((on.hwm - on.idle) * 1024) / STREAMS, 0)} KiB per stream)`],
  };
}

if (isMain(import.meta.url)) {
  const s = await run();
  console.log(`${s.heading}\n\n${s.body}\n`);
}
