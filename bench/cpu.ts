// CPU time the gateway spends per request and per streamed event: process CPU accounting
// (/proc/<pid>/stat utime + stime, every thread of the gateway process) over thousands of requests,
// with the fake upstream's own CPU per request read the same way as the baseline of the same run.
// Run: node_modules/.bin/node --import tsx bench/cpu.ts [--quick]
import { GATEWAY_CONFIG, LIMITED_CONFIG, cpuMs, f, isMain, load, machine, sleep, spawnComparison, table, warmUp, type Child, type Section, type WarmUp } from './lib.ts';
import { directBody, gatewayBody } from './latency.ts';

const quick = process.argv.includes('--quick');
const N_REQ = Number(process.env.CPU_REQUESTS ?? (quick ? 2000 : 5000));
/** Requests measured on a fresh process, before it is warmed up. */
const N_FRESH = 2000;
const N_LONG = Number(process.env.CPU_STREAMS ?? (quick ? 10 : 30));
const N_SHORT = N_LONG * 5;
const MAX_MS = 20_000;
const everyFrame = () => true;

interface Measure { requests: number; events: number; gwMs: number; upMs: number; errors: number }

async function measured(gw: Child | null, up: Child, opts: Parameters<typeof load>[0]): Promise<Measure> {
  const g0 = gw ? cpuMs(gw.pid) : 0;
  const u0 = cpuMs(up.pid);
  const r = await load({ ...opts, keepResults: !!opts.mark });
  const gwMs = gw ? cpuMs(gw.pid) - g0 : 0;
  const upMs = cpuMs(up.pid) - u0;
  const events = r.results.reduce((n, x) => n + x.marks.length, 0);
  return { requests: r.count, events, gwMs, upMs, errors: r.errors };
}

export interface CpuFigures {
  rows: string[][];
  /** npm start, no limit, store off: the first N_FRESH requests of a fresh process, and the proxy's. */
  freshPerRequestOff: number;
  proxyFreshPerRequest: number;
  warmUpRequests: number;
  /** npm start, no limit (no slot lease). */
  perRequestOff: number;
  perRequestOn: number;
  perEvent: number;
  marginalPerEvent: number;
  /** npm start with a limit: every request takes and frees a slot, counted in the process (npm start owns its database: no write). */
  limitedPerRequestOff: number;
  limitedPerRequestOn: number;
  limitedPerEvent: number;
  limitedMarginalPerEvent: number;
  upPerRequest: number;
  upPerChunk: number;
  proxyPerRequest: number;
  proxyPerChunk: number;
}

interface Variant { fresh: Measure; warm: WarmUp; off: Measure; on: Measure; long: Measure; short: Measure; idleMsPerS: number }

async function variant(gw: Child, up: Child): Promise<Variant> {
  const url = `${gw.url}/v1/responses`;
  // A fresh process first (its JIT compiling the hot code as it goes), then warmed up to its
  // steady state, store off, then store on (with no limit nothing else runs dynalite's write path).
  const fresh = await measured(gw, up, { concurrency: 16, maxRequests: N_FRESH, maxMs: MAX_MS, url, body: () => gatewayBody('chat', false) });
  const warm = await warmUp(gw.pid, { url, body: () => gatewayBody('chat', false) });
  await sleep(300);
  const i0 = cpuMs(gw.pid);
  await sleep(1000);
  const idleMsPerS = cpuMs(gw.pid) - i0;
  const off = await measured(gw, up, { concurrency: 16, maxRequests: N_REQ, maxMs: MAX_MS, url, body: () => gatewayBody('chat', false) });
  // Store on after store off: dynalite's writes leave LevelDB compaction and a larger heap behind.
  await warmUp(gw.pid, { url, body: () => gatewayBody('chat', true), maxBatches: 4 });
  const on = await measured(gw, up, { concurrency: 16, maxRequests: N_REQ, maxMs: MAX_MS, url, body: () => gatewayBody('chat', true) });
  await load({ concurrency: 4, maxRequests: 20, maxMs: MAX_MS, url, body: () => gatewayBody('s1000x0', false, true) });
  const long = await measured(gw, up, { concurrency: 4, maxRequests: N_LONG, maxMs: MAX_MS, url, body: () => gatewayBody('s1000x0', false, true), mark: everyFrame });
  const short = await measured(gw, up, { concurrency: 4, maxRequests: N_SHORT, maxMs: MAX_MS, url, body: () => gatewayBody('s10x0', false, true), mark: everyFrame });
  for (const [k, m] of Object.entries({ fresh, off, on, long, short })) if (m.errors) throw new Error(`cpu bench: ${m.errors} failed requests (${k})`);
  return { fresh, warm, off, on, long, short, idleMsPerS };
}

export async function measureCpu(): Promise<CpuFigures> {
  const procs = await spawnComparison();
  const { up, free, limited, proxy } = procs;
  try {
    // Baseline: the fake upstream's own CPU for the same answers, called directly.
    const chatUrl = `${up.url}/v1/chat/completions`;
    await warmUp(up.pid, { url: chatUrl, body: () => directBody('chat') });
    const dReq = await measured(null, up, { concurrency: 16, maxRequests: N_REQ, maxMs: MAX_MS, url: chatUrl, body: () => directBody('chat') });
    const dLong = await measured(null, up, { concurrency: 4, maxRequests: N_LONG, maxMs: MAX_MS, url: chatUrl, body: () => directBody('s1000x0', true), mark: everyFrame });

    // The floor: a minimal node:http pass-through proxy in front of the same upstream.
    const proxyUrl = `${proxy.url}/v1/chat/completions`;
    const pFresh = await measured(proxy, up, { concurrency: 16, maxRequests: N_FRESH, maxMs: MAX_MS, url: proxyUrl, body: () => directBody('chat') });
    const pWarm = await warmUp(proxy.pid, { url: proxyUrl, body: () => directBody('chat') });
    const pReq = await measured(proxy, up, { concurrency: 16, maxRequests: N_REQ, maxMs: MAX_MS, url: proxyUrl, body: () => directBody('chat') });
    const pLong = await measured(proxy, up, { concurrency: 4, maxRequests: N_LONG, maxMs: MAX_MS, url: proxyUrl, body: () => directBody('s1000x0', true), mark: everyFrame });
    console.error('cpu: baselines done');

    const r = await variant(free, up);
    console.error('cpu: gateway (npm start, no limit) done');
    const m = await variant(limited, up);
    console.error('cpu: gateway (npm start, with a limit) done');

    const perReq = (x: Measure) => x.gwMs / x.requests;
    const perEv = (x: Measure) => x.gwMs / x.events;
    const marginal = (l: Measure, s: Measure) => (l.gwMs / l.requests - s.gwMs / s.requests) / (l.events / l.requests - s.events / s.requests);
    const us = (ms: number) => f(ms * 1000, 1);
    const warmed = (w: WarmUp) => `${w.requests} (${w.perBatch.map((x) => f(x, 3)).join(', ')})`;
    const pr = pReq.gwMs / pReq.requests;
    const pe = pLong.gwMs / pLong.events;
    // Columns: no limit | with a limit | minimal proxy | fake upstream direct | no limit / proxy | with a limit / proxy.
    const rows: string[][] = [
      [`non-stream request, store off, the first ${N_FRESH} requests of a fresh process (ms)`, f(perReq(r.fresh), 3), f(perReq(m.fresh), 3), f(pFresh.gwMs / pFresh.requests, 3), '', f(perReq(r.fresh) / (pFresh.gwMs / pFresh.requests), 1), f(perReq(m.fresh) / (pFresh.gwMs / pFresh.requests), 1)],
      ['requests until steady (warm-up; CPU per request of each batch of 2,000, ms)', warmed(r.warm), warmed(m.warm), warmed(pWarm), '', '', ''],
      ['non-stream request, store off, warm (ms)', `${f(perReq(r.off), 3)} (${r.off.requests} req)`, `${f(perReq(m.off), 3)} (${m.off.requests} req)`, `${f(pr, 3)} (${pReq.requests} req)`, `${f(dReq.upMs / dReq.requests, 3)} (${dReq.requests} req)`, f(perReq(r.off) / pr, 1), f(perReq(m.off) / pr, 1)],
      ['non-stream request, store on (ms)', `${f(perReq(r.on), 3)} (${r.on.requests} req)`, `${f(perReq(m.on), 3)} (${m.on.requests} req)`, '', '', f(perReq(r.on) / pr, 1), f(perReq(m.on) / pr, 1)],
      ['store on minus store off: the PutItem into dynalite (ms)', f(perReq(r.on) - perReq(r.off), 3), f(perReq(m.on) - perReq(m.off), 3), '', '', '', ''],
      ['slots counted in the process: with a limit minus no limit, store off (ms)', '', f(perReq(m.off) - perReq(r.off), 3), '', '', '', ''],
      ['streamed event, all in: 1,000-delta streams (µs)', `${us(perEv(r.long))} (${r.long.events} ev)`, `${us(perEv(m.long))} (${m.long.events} ev)`, `${us(pe)} (${pLong.events} chunks)`, `${us(dLong.upMs / dLong.events)} (${dLong.events} chunks)`, f(perEv(r.long) / pe, 1), f(perEv(m.long) / pe, 1)],
      ['streamed event, marginal: 1,000- vs 10-delta streams (µs)', us(marginal(r.long, r.short)), us(marginal(m.long, m.short)), '', '', '', ''],
      ['whole 10-delta stream (ms)', f(perReq(r.short), 3), f(perReq(m.short), 3), '', '', '', ''],
      ['idle, per second (ms)', f(r.idleMsPerS, 0), f(m.idleMsPerS, 0), '', '', '', ''],
    ];
    return {
      rows,
      freshPerRequestOff: perReq(r.fresh), proxyFreshPerRequest: pFresh.gwMs / pFresh.requests, warmUpRequests: r.warm.requests,
      perRequestOff: perReq(r.off), perRequestOn: perReq(r.on), perEvent: perEv(r.long), marginalPerEvent: marginal(r.long, r.short),
      limitedPerRequestOff: perReq(m.off), limitedPerRequestOn: perReq(m.on), limitedPerEvent: perEv(m.long), limitedMarginalPerEvent: marginal(m.long, m.short),
      upPerRequest: dReq.upMs / dReq.requests, upPerChunk: dLong.upMs / dLong.events, proxyPerRequest: pr, proxyPerChunk: pe,
    };
  } finally {
    await procs.stop();
  }
}

export async function run(): Promise<Section> {
  const c = await measureCpu();
  const body = [
    `Command: \`node_modules/.bin/node --import tsx bench/cpu.ts\` (also part of \`npm run bench\`). ${machine()}. CPU time is the gateway process's`,
    'utime + stime from `/proc/<pid>/stat` (all its threads: JavaScript, GC, libuv) read before and after each batch,',
    'divided by the requests or events of the batch; the clock tick is 10 ms, so batches are thousands of requests.',
    `Non-stream: ${N_REQ} requests per row at 16 clients (the 60-word answer of the latency bench); streams: ${N_LONG} streams`,
    `of 1,000 one-word deltas and ${N_SHORT} of 10, at 4 clients, store off; "event" is every SSE frame the client got`,
    '(1,009 per long stream: deltas plus lifecycle events). The marginal cost per event takes out the per-stream fixed',
    'cost: (CPU per long stream - CPU per short stream) / (events per long stream - events per short stream).',
    '',
    `Warm and fresh. V8 compiles hot code in tiers, on background threads of the same process, so a fresh server's`,
    `first thousands of requests cost two to three times what they cost later, and that CPU is the JIT's, spent once per`,
    `process. Each process is therefore measured twice: its first ${N_FRESH} requests from start-up, then, after a warm-up`,
    'that sends batches of 2,000 requests until one costs within 10% of the batch before it (the "requests until',
    'steady" row gives the count and each batch\'s CPU per request), warm: every other row. The targets are read on the',
    'warm rows (a Lambda instance serving traffic is warm; one that serves a few requests and is reclaimed pays the',
    'fresh figure, and its cold start on top: the cold-start section). The minimal proxy and the upstream are warmed the',
    'same way.',
    '',
    'Both gateway columns are the real local server (`npm start`), in two configurations. *No limit*',
    `(\`${GATEWAY_CONFIG}\`): no concurrency slot is taken, so with store off nothing is written to DynamoDB per`,
    `request. *With a limit* (\`${LIMITED_CONFIG}\`, high enough that no request waits): every request takes and`,
    'releases a concurrency slot. npm start owns its database, so its slots are counted in the process: no write, and',
    'the column shows what the limit\'s bookkeeping costs in CPU. On a table shared by several processes (Lambda, or npm',
    'start with `DYNAMODB_ENDPOINT`) a slot is a lease in DynamoDB, a PutItem to take it and a DeleteItem to free it:',
    '"Concurrency leases" counts them. With store on, dynalite runs the response PutItem inside the gateway process',
    '(the AWS SDK client\'s middleware, serialization and error parsing, then dynalite and LevelDB, called in process:',
    'no HTTP, no signing), so it is counted in its CPU. (On AWS that write is a network call to DynamoDB, whose CPU is',
    'not the gateway\'s.)',
    '',
    'Baselines of the same run, read the same way: the *minimal proxy* (`bench/minimal-proxy.ts`: node:http server,',
    'keep-alive client to the upstream, the answer piped back; no parsing) is the floor of any Node.js gateway; the',
    '*fake upstream* (`bench/upstream.ts`, a plain node:http server writing a canned answer) is its own CPU per direct',
    'request or chunk. The last two columns divide each gateway column by the minimal proxy.',
    '',
    table(['CPU per', 'npm start, no limit', 'npm start, with a limit (slots counted in process)', 'minimal proxy', 'fake upstream, direct', 'no limit / minimal proxy', 'with a limit / minimal proxy'], c.rows),
    '',
    `Targets (npm start, no limit, warm): under 0.3 ms per non-stream request without storage: ${f(c.perRequestOff, 3)} ms (${c.perRequestOff < 0.3 ? 'met' : 'not met'};`,
    `the first ${N_FRESH} requests of a fresh process: ${f(c.freshPerRequestOff, 3)} ms, the proxy's ${f(c.proxyFreshPerRequest, 3)};`,
    `with a limit, slots counted in process: ${f(c.limitedPerRequestOff, 3)} ms); under 10 µs per streamed event: ${f(c.perEvent * 1000, 1)} µs all in`,
    `(${c.perEvent * 1000 < 10 ? 'met' : 'not met'}), ${f(c.marginalPerEvent * 1000, 1)} µs marginal (${c.marginalPerEvent * 1000 < 10 ? 'met' : 'not met'}).`,
  ].join('\n');
  return {
    heading: '## CPU per request and per event',
    body,
    summary: [
      `gateway CPU per non-stream request, no limit, warm: ${f(c.perRequestOff, 3)} ms store off (fresh process, first ${N_FRESH}: ${f(c.freshPerRequestOff, 3)} ms; minimal proxy warm ${f(c.proxyPerRequest, 3)}), ${f(c.perRequestOn, 3)} ms store on; with a limit (slots counted in process): ${f(c.limitedPerRequestOff, 3)} ms store off, ${f(c.limitedPerRequestOn, 3)} ms store on; upstream's own: ${f(c.upPerRequest, 3)} ms`,
      `gateway CPU per streamed event, no limit: ${f(c.perEvent * 1000, 1)} µs all in, ${f(c.marginalPerEvent * 1000, 1)} µs marginal (with a limit: ${f(c.limitedPerEvent * 1000, 1)} µs, ${f(c.limitedMarginalPerEvent * 1000, 1)} µs)`,
    ],
  };
}

if (isMain(import.meta.url)) {
  const s = await run();
  console.log(`${s.heading}\n\n${s.body}\n`);
}
