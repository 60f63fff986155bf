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
    'its one log line per request, as it does by default. Before the measured pass, a pass of 6 s at the same rate',
    '(`warmAtRate` in bench/lib.ts) whose figures are dropped. Latencies in ms, pauses summed in ms.',
    '',
    table(['mode', 'requests', 'errors', 'p50 ms', 'p99 ms', 'scavenges', 'scavenge pauses ms', 'promoted per scavenge KiB', 'promoted per request B', 'mark-compacts', 'mark-compact pauses ms'], rows),
    '',
    'Targets (issue 16): at most one mark-compact in 10 s, and a P99 within 2x of the minimal proxy\'s',
    '(the summary at the end of `npm run bench` says met or MISSED for this run).',
    '',
    'What it took, found with this bench run against one-off server variants (one suspect per',
    'variant, its promoted bytes per request at 2,000 req/s compared):',
    '',
    '- **A Writable made per request promoted the whole request.** The local server wrapped each',
    '  node:http response in a Writable of its own (`LocalResponseStream`) for the handler to write',
    '  to. A bare node:http server promotes 19 B per request; the same server making one `new',
    '  Writable()` per request, never used, promoted 1.8 KB and scavenged a sixth as often; the',
    '  gateway promoted 5.2-5.7 KB, whatever the size of the young generation (semi-spaces of 8 and 32',
    '  MB gave the same) and with allocation-site pretenuring off too. The node:http response is',
    '  itself a stream pipeline writes to, so the handler now writes to it directly',
    '  (`functions/local/lambda-runtime.ts`, `openResponse`): 5.7 KB -> about 0.1 KB per request,',
    '  scavenge pauses from 3-5 ms to under 1 ms each, no mark-compact in 10 s. (The four',
    '  AbortSignals per request, suspected before, promote nothing of their own: one per request',
    '  with listeners, in a loop, promoted 0.5 B.)',
    '- **A Response built key by key was a V8 dictionary.** `newResponseObject` added its 35 keys',
    '  one by one; past a dozen V8 keeps such an object as a hash table, and every spread of it',
    '  (each snapshot, record and answer of a turn is one) cost 5 µs. It now copies a shape made by',
    '  JSON.parse (fast properties): 0.05 µs a spread, 0.8 µs to build (`shared/protocol/response.ts`).',
    '- **The first seconds at a rate measured the machine.** In every first pass at 2,000 req/s, about',
    '  2.2 s in, the whole VM stalled for a few hundred ms: a shell reading /proc every 100 ms got',
    '  no CPU for 460 ms, and the minimal proxy\'s P99 went to 34-43 ms in the same pass. A second',
    '  pass in the same processes, right after or 10 s later, never stalled (gateway P99 2.7-4.8',
    '  ms, proxy 1.8 ms). Hence the dropped pass before each measured one, here and in the latency',
    '  bench\'s constant-rate rows.',
    '- npm start publishes its metrics once a second (and on stop), not one EMF line per request;',
    '  the free slot is found with a loop, not a list of every slot per request.',
  ].join('\n');
  return { heading: '## Garbage collection at 2,000 req/s', body, summary };
}

if (isMain(import.meta.url)) {
  const s = await run();
  console.log(`${s.heading}\n\n${s.body}\n`);
  for (const l of s.summary) console.log(l);
}
