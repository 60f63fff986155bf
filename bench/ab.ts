// Before/after of a change, in one run: the same server script from two source trees, side by
// side against one fake upstream, batches alternating A, B, A, B... so machine noise hits both.
// Prints the gateway's CPU per non-stream request and per streamed event for each tree.
// Run: node_modules/.bin/node --import tsx bench/ab.ts --before <tree> [--after <tree>] [--limit] [--entry functions/local/main.ts] [--rounds 20] [--requests 250] [--streams 4]
//   A tree is a copy of the repository (node_modules may be a symlink). The default entry is
//   npm start's (functions/local/main.ts) with no concurrency limit (GATEWAY_CONFIG): no slot
//   lease and, store off, no DynamoDB write per request, so the figures are the gateway's own code.
//   (A tree from before `max_concurrent_connections: 0` was accepted refuses that config.)
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { GATEWAY_CONFIG, LIMITED_CONFIG, ROOT, cpuMs, f, load, median, spawnGateway, spawnUpstream, warmUp, type Child } from './lib.ts';
import { gatewayBody } from './latency.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt?: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const before = arg('--before');
if (!before) throw new Error('usage: node_modules/.bin/node --import tsx bench/ab.ts --before <tree> [--after <tree>] [--entry <script>] [--rounds N]');
const after = arg('--after', ROOT)!;
const entry = arg('--entry', 'functions/local/main.ts')!;
const rounds = Number(arg('--rounds', '20'));
const requests = Number(arg('--requests', '250'));
const streams = Number(arg('--streams', '4'));
// --limit: both with max_concurrent_connections set (slots counted in process), as users run them.
const config = args.includes('--limit') ? LIMITED_CONFIG : GATEWAY_CONFIG;

// Both servers are pinned to the same core (the upstream and this load generator to another),
// so load from elsewhere on the machine lands on both alike; halfway through, both are restarted
// in the other order, so neither gains from being started first.
const pin = cpus().length > 1 ? { gw: String(cpus().length - 1), rest: `0-${cpus().length - 2}` } : null;
if (pin) execFileSync('taskset', ['-p', '-c', pin.rest, String(process.pid)]);
const up = await spawnUpstream({ cpus: pin?.rest });
const tot = new Map<string, { reqMs: number; req: number; evMs: number; ev: number; lat: number[] }>(['before', 'after'].map((n) => [n, { reqMs: 0, req: 0, evMs: 0, ev: 0, lat: [] }]));
try {
  for (const half of [0, 1]) {
    const order: Array<[string, string]> = half === 0 ? [['before', before], ['after', after]] : [['after', after], ['before', before]];
    const trees: Array<[string, Child]> = [];
    for (const [name, root] of order) trees.push([name, await spawnGateway({ upstreamUrl: up.url, extraConfig: config, entry, root, cpus: pin?.gw })]);
    try {
      for (const [, gw] of trees) {
        // To a steady state: a fresh process's first thousands of requests measure the JIT.
        await warmUp(gw.pid, { url: `${gw.url}/v1/responses`, body: () => gatewayBody('chat', false), maxBatches: 6 });
        await load({ concurrency: 4, maxRequests: 10, maxMs: 30_000, url: `${gw.url}/v1/responses`, body: () => gatewayBody('s1000x0', false, true) });
      }
      for (let r = 0; r < rounds / 2; r++) {
        for (const [name, gw] of r % 2 ? [...trees].reverse() : trees) {
          const t = tot.get(name)!;
          const url = `${gw.url}/v1/responses`;
          let c0 = cpuMs(gw.pid);
          const a = await load({ concurrency: 16, maxRequests: requests, maxMs: 60_000, url, body: () => gatewayBody('chat', false) });
          t.reqMs += cpuMs(gw.pid) - c0;
          t.req += a.count;
          for (const x of a.latencies) t.lat.push(x);
          c0 = cpuMs(gw.pid);
          const s = await load({ concurrency: 2, maxRequests: streams, maxMs: 60_000, url, body: () => gatewayBody('s1000x0', false, true), mark: () => true, keepResults: true });
          t.evMs += cpuMs(gw.pid) - c0;
          t.ev += s.results.reduce((n, x) => n + x.marks.length, 0);
          if (a.errors || s.errors) throw new Error(`${name}: ${a.errors + s.errors} failed requests`);
        }
      }
    } finally {
      for (const [, gw] of trees) await gw.stop();
    }
    console.error(`half ${half + 1}/2 done`);
  }
} finally {
  await up.stop();
}
const perReq = (n: string) => tot.get(n)!.reqMs / tot.get(n)!.req;
const perEv = (n: string) => tot.get(n)!.evMs / tot.get(n)!.ev;
const p50 = (n: string) => median(tot.get(n)!.lat);
console.log(`entry ${entry}; ${rounds} alternating rounds of ${requests} non-stream requests (16 clients) and ${streams} streams of 1,000 deltas (2 clients)`);
console.log('| measure | before | after | after/before |\n| --- | ---: | ---: | ---: |');
console.log(`| CPU per non-stream request, store off (ms) | ${f(perReq('before'), 3)} | ${f(perReq('after'), 3)} | ${f(perReq('after') / perReq('before'))} |`);
console.log(`| CPU per streamed event, all in (µs) | ${f(perEv('before') * 1000, 1)} | ${f(perEv('after') * 1000, 1)} | ${f(perEv('after') / perEv('before'))} |`);
console.log(`| p50 latency at 16 clients (ms) | ${f(p50('before'), 2)} | ${f(p50('after'), 2)} | ${f(p50('after') / p50('before'))} |`);
console.log(`totals: before ${tot.get('before')!.req} requests, ${tot.get('before')!.ev} events; after ${tot.get('after')!.req} requests, ${tot.get('after')!.ev} events`);
