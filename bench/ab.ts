// Before/after of a change, in one run: the same server script from two source trees, side by
// side against one fake upstream, batches alternating A, B, A, B... so machine noise hits both.
// Prints the gateway's CPU per non-stream request and per streamed event for each tree.
// Run: npx tsx bench/ab.ts --before <tree> [--after <tree>] [--entry bench/gateway-memslots.ts] [--rounds 4]
//   A tree is a copy of the repository (node_modules may be a symlink). The default entry is the
//   bench variant with slot leases in memory, so the figures are the gateway's own code.
import { GATEWAY_CONFIG, ROOT, cpuMs, f, load, median, spawnGateway, spawnUpstream, type Child } from './lib.ts';
import { gatewayBody } from './latency.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt?: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const before = arg('--before');
if (!before) throw new Error('usage: npx tsx bench/ab.ts --before <tree> [--after <tree>] [--entry <script>] [--rounds N]');
const after = arg('--after', ROOT)!;
const entry = arg('--entry', 'bench/gateway-memslots.ts');
const rounds = Number(arg('--rounds', '4'));
const requests = Number(arg('--requests', '1500'));
const streams = Number(arg('--streams', '15'));

const up = await spawnUpstream();
const trees: Array<[string, Child]> = [
  ['before', await spawnGateway({ upstreamUrl: up.url, extraConfig: GATEWAY_CONFIG, entry, root: before })],
  ['after', await spawnGateway({ upstreamUrl: up.url, extraConfig: GATEWAY_CONFIG, entry, root: after })],
];
const perReq = new Map<string, number[]>(trees.map(([n]) => [n, []]));
const perEvent = new Map<string, number[]>(trees.map(([n]) => [n, []]));
const p50 = new Map<string, number[]>(trees.map(([n]) => [n, []]));
try {
  for (const [, gw] of trees) {
    await load({ concurrency: 16, maxRequests: 1000, maxMs: 30_000, url: `${gw.url}/v1/responses`, body: () => gatewayBody('chat', false) });
    await load({ concurrency: 4, maxRequests: 10, maxMs: 30_000, url: `${gw.url}/v1/responses`, body: () => gatewayBody('s1000x0', false, true) });
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, gw] of r % 2 ? [...trees].reverse() : trees) {
      const url = `${gw.url}/v1/responses`;
      let c0 = cpuMs(gw.pid);
      const a = await load({ concurrency: 16, maxRequests: requests, maxMs: 60_000, url, body: () => gatewayBody('chat', false) });
      perReq.get(name)!.push((cpuMs(gw.pid) - c0) / a.count);
      p50.get(name)!.push(median(a.latencies));
      c0 = cpuMs(gw.pid);
      const s = await load({ concurrency: 4, maxRequests: streams, maxMs: 60_000, url, body: () => gatewayBody('s1000x0', false, true), mark: () => true, keepResults: true });
      const events = s.results.reduce((n, x) => n + x.marks.length, 0);
      perEvent.get(name)!.push((cpuMs(gw.pid) - c0) / events);
      if (a.errors || s.errors) throw new Error(`${name}: ${a.errors + s.errors} failed requests`);
    }
    console.error(`round ${r + 1}/${rounds}`);
  }
} finally {
  for (const [, gw] of trees) await gw.stop();
  await up.stop();
}
const b = (m: Map<string, number[]>) => median(m.get('before')!);
const a = (m: Map<string, number[]>) => median(m.get('after')!);
console.log(`entry ${entry}; ${rounds} rounds of ${requests} non-stream requests (16 clients) and ${streams} streams of 1,000 deltas (4 clients), medians of the rounds`);
console.log('| measure | before | after | after/before |\n| --- | ---: | ---: | ---: |');
console.log(`| CPU per non-stream request, store off (ms) | ${f(b(perReq), 3)} | ${f(a(perReq), 3)} | ${f(a(perReq) / b(perReq))} |`);
console.log(`| CPU per streamed event, all in (µs) | ${f(b(perEvent) * 1000, 1)} | ${f(a(perEvent) * 1000, 1)} | ${f(a(perEvent) / b(perEvent))} |`);
console.log(`| p50 latency at 16 clients (ms) | ${f(b(p50), 2)} | ${f(a(p50), 2)} | ${f(a(p50) / b(p50))} |`);
console.log(`rounds, before: req ${perReq.get('before')!.map((x) => f(x, 3)).join(' ')}; ev ${perEvent.get('before')!.map((x) => f(x * 1000, 1)).join(' ')}`);
console.log(`rounds, after:  req ${perReq.get('after')!.map((x) => f(x, 3)).join(' ')}; ev ${perEvent.get('after')!.map((x) => f(x * 1000, 1)).join(' ')}`);
