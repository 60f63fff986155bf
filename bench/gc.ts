// Garbage collection under a constant 2,000 req/s (the rate of the latency bench's tail figures):
// the gateway (npm start, store off, no limit) and the minimal proxy, each run with V8's
// --trace-gc-nvp, which prints one line per collection (its kind, pause and bytes promoted).
// Objects of a request that outlive two scavenges are promoted to the old generation, and what is
// promoted is what the mark-compacts (the long pauses) have to collect.
// Run: node_modules/.bin/node --import tsx bench/gc.ts [--quick]
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { directBody, gatewayBody } from './latency.ts';
import { GATEWAY_CONFIG, f, isMain, loadAtRate, warmAtRate, machine, median, quantile, spawnGateway, spawnMinimalProxy, spawnUpstream, table, target, warmUp, type Child, type Section } from './lib.ts';

const RATE = 2000;
const quick = process.argv.includes('--quick');
const DURATION_MS = quick ? 4000 : 10_000;

interface Gc { scavenges: number; promotedKiB: number; markCompacts: number; markCompactMs: number; scavengeMs: number }

/** Collections of `child` while `during` runs, from its --trace-gc-nvp lines (`gc=s`: scavenge, `gc=mc`: mark-compact) in its stdout file. */
async function traced<T>(child: Child, during: () => Promise<T>): Promise<{ gc: Gc; result: T }> {
  const gc: Gc = { scavenges: 0, promotedKiB: 0, markCompacts: 0, markCompactMs: 0, scavengeMs: 0 };
  const from = statSync(child.stdoutFile!).size;
  const result = await during();
  const fd = openSync(child.stdoutFile!, 'r');
  const bytes = Buffer.alloc(statSync(child.stdoutFile!).size - from);
  readSync(fd, bytes, 0, bytes.length, from);
  closeSync(fd);
  {
    for (const line of bytes.toString('utf8').split('\n')) {
      const kind = /\bgc=(\w+)/.exec(line)?.[1];
      if (!kind) continue;
      const pause = Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? 0);
      if (kind === 's') {
        gc.scavenges++;
        gc.scavengeMs += pause;
        gc.promotedKiB += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0) / 1024;
      } else if (kind === 'mc' || kind === 'ms') {
        gc.markCompacts++;
        gc.markCompactMs += pause;
      }
    }
  }
  return { gc, result };
}

export async function run(): Promise<Section> {
  const up = await spawnUpstream();
  const rows: string[][] = [];
  const summary: string[] = [];
  const p99s = new Map<string, number>();
  try {
    const modes: Array<{ name: string; start: () => Promise<Child>; path: string; body: () => string }> = [
      { name: 'gateway, store off', start: () => spawnGateway({ upstreamUrl: up.url, extraConfig: GATEWAY_CONFIG, nodeFlags: ['--trace-gc-nvp'] }), path: '/v1/responses', body: () => gatewayBody('chat', false) },
      { name: 'minimal proxy (a hop, no work)', start: () => spawnMinimalProxy(up, ['--trace-gc-nvp']), path: '/v1/chat/completions', body: () => directBody('chat') },
    ];
    for (const m of modes) {
      const child = await m.start();
      try {
        const url = `${child.url}${m.path}`;
        await warmUp(child.pid, { url, body: m.body, maxBatches: 4 });
        await warmAtRate({ rate: RATE, url, body: m.body });
        const { gc, result } = await traced(child, () => loadAtRate({ rate: RATE, durationMs: DURATION_MS, url, body: m.body }));
        p99s.set(m.name, quantile(result.latencies, 0.99));
        rows.push([
          m.name, String(result.count), String(result.errors), f(median(result.latencies), 3), f(quantile(result.latencies, 0.99), 3),
          String(gc.scavenges), f(gc.scavengeMs, 1), f(gc.scavenges ? gc.promotedKiB / gc.scavenges : 0, 1), f((gc.promotedKiB * 1024) / Math.max(1, result.count), 0),
          String(gc.markCompacts), f(gc.markCompactMs, 1),
        ]);
        if (m.name.startsWith('gateway')) {
          summary.push(target(`mark-compacts in ${DURATION_MS / 1000} s at ${RATE} req/s (gateway)`, gc.markCompacts, '<=', 1));
        }
      } finally {
        await child.stop();
      }
    }
  } finally {
    await up.stop();
  }
  const [gw, proxy] = [...p99s.values()];
  summary.push(target(`${RATE} req/s P99, gateway / minimal proxy (gc run)`, gw! / proxy!, '<=', 2));
  const body = [
    `Command: \`node_modules/.bin/node --import tsx bench/gc.ts\` (also part of \`npm run bench\`). ${machine()}. Each process warmed up, then`,
    `${RATE} req/s for ${DURATION_MS / 1000} s (open loop, as in the latency section), with \`node --trace-gc-nvp\`; the gateway writes`,
    'its one log line per request, as it does by default. Latencies in ms, pauses summed in ms.',
    '',
    table(['mode', 'requests', 'errors', 'p50 ms', 'p99 ms', 'scavenges', 'scavenge pauses ms', 'promoted per scavenge KiB', 'promoted per request B', 'mark-compacts', 'mark-compact pauses ms'], rows),
  ].join('\n');
  return { heading: '## Garbage collection at 2,000 req/s', body, summary };
}

if (isMain(import.meta.url)) {
  const s = await run();
  console.log(`${s.heading}\n\n${s.body}\n`);
  for (const l of s.summary) console.log(l);
}
