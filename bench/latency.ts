// Added latency of the gateway versus calling the upstream directly, in one run against the same
// fake upstream (its own process), the gateway being `npm start` in its own process: with no
// concurrency limit (no slot), and with a limit (every request takes and frees a slot, counted in
// the process: npm start owns its database, so no write).
//   non-stream: p50 / p99 / throughput at 1, 16 and 64 concurrent keep-alive clients, store off
//   and on, gateway (POST /v1/responses) vs direct (POST /v1/chat/completions, same model, same
//   answer); the modes alternate in short slices so drift hits them alike.
//   streaming: time to first byte, to the first text delta, to the end, and the added delay per
//   event (50 deltas 2 ms apart), gateway vs direct.
//   constant arrival rate (open loop) at 500 and 2,000 req/s: direct, the hops, the gateway.
// Baselines beside direct: two hops that do no work, the Node minimal proxy and, when installed,
// nginx (a hop in C): what any gateway on this machine pays before doing anything.
// Run: node_modules/.bin/node --import tsx bench/latency.ts [--quick]
import { GATEWAY_CONFIG, LIMITED_CONFIG, f, isMain, target, warmUp, warmAtRate, load, loadAtRate, machine, median, quantile, request, spawnComparison, table, type Section, type Timed } from './lib.ts';
import http from 'node:http';

const quick = process.argv.includes('--quick');
const SLICE_MS = Number(process.env.SLICE_MS ?? (quick ? 500 : 1500));
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const STREAM_RUNS = Number(process.env.STREAM_RUNS ?? (quick ? 8 : 25));
const CONCURRENCY = [1, 16, 64];
/** Constant arrival rates (req/s) every mode sustains on 2 cores, and how long each slice runs. */
const RATES = [500, 2000];
const RATE_MS = Number(process.env.RATE_MS ?? (quick ? 2000 : 5000));
const PROMPT = 'Say sixty words.';

export const gatewayBody = (model: string, store: boolean, stream = false) =>
  JSON.stringify({ model, input: PROMPT, store, ...(stream ? { stream: true } : {}) });
export const directBody = (model: string, stream = false) =>
  JSON.stringify({ model: `${model}:latest`, messages: [{ role: 'user', content: PROMPT }], ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) });

export const isGatewayDelta = (frame: string) => frame.startsWith('event: response.output_text.delta\n');
export const isDirectDelta = (frame: string) => frame.includes('"content":"tok');

/** The minimal proxy's mode: what any extra hop in front of the upstream costs here. */
const PROXY = 'minimal proxy (a hop, no work)';
/** nginx's mode (when installed): what a hop written in C costs here, whatever the gateway's language. */
const NGINX = 'nginx (a hop in C, no work)';
/** npm start with a concurrency limit (its own database: slots counted in the process). */
const LIMITED = 'gateway, with a limit, store off';
/** Modes that talk Chat Completions to the upstream as it is (no gateway of ours). */
const isBaseline = (name: string) => name === 'direct' || name === PROXY || name === NGINX;

interface Mode { name: string; url: string; body: () => string; pid?: number }

export async function run(): Promise<Section> {
  // The proxy is the cost of a hop itself: a node:http pass-through with no work of its own.
  const procs = await spawnComparison();
  const { up, free: gw, limited, proxy, nginx } = procs;
  try {
    const modes: Mode[] = [
      { name: 'direct', url: `${up.url}/v1/chat/completions`, body: () => directBody('chat'), pid: up.pid },
      ...(nginx ? [{ name: NGINX, url: `${nginx.url}/v1/chat/completions`, body: () => directBody('chat'), pid: nginx.pid }] : []),
      { name: PROXY, url: `${proxy.url}/v1/chat/completions`, body: () => directBody('chat'), pid: proxy.pid },
      { name: 'gateway, store off', url: `${gw.url}/v1/responses`, body: () => gatewayBody('chat', false), pid: gw.pid },
      { name: 'gateway, store on', url: `${gw.url}/v1/responses`, body: () => gatewayBody('chat', true), pid: gw.pid },
      { name: LIMITED, url: `${limited.url}/v1/responses`, body: () => gatewayBody('chat', false), pid: limited.pid },
    ];
    // Warm-up to a steady state (bench/lib.ts warmUp): JIT, the model list, dynalite's table,
    // keep-alive sockets.
    for (const m of modes) await warmUp(m.pid!, { url: m.url, body: m.body, maxBatches: 6 });

    const rows: string[][] = [];
    const summary: string[] = [];
    for (const c of CONCURRENCY) {
      const acc = new Map<string, { lat: number[]; count: number; ms: number; errors: number }>();
      for (let r = 0; r < ROUNDS; r++) {
        for (const m of modes) {
          const res = await load({ concurrency: c, maxRequests: 200_000, maxMs: SLICE_MS, url: m.url, body: m.body });
          const a = acc.get(m.name) ?? { lat: [], count: 0, ms: 0, errors: 0 };
          for (const x of res.latencies) a.lat.push(x);
          a.count += res.count; a.ms += res.elapsedMs; a.errors += res.errors;
          acc.set(m.name, a);
        }
      }
      const d = acc.get('direct')!;
      const dp50 = median(d.lat), dp99 = quantile(d.lat, 0.99), drps = (d.count / d.ms) * 1000;
      for (const m of modes) {
        const a = acc.get(m.name)!;
        const p50 = median(a.lat), p99 = quantile(a.lat, 0.99), rps = (a.count / a.ms) * 1000;
        const direct = m.name === 'direct';
        rows.push([
          String(c), m.name, String(a.count), String(a.errors),
          f(p50, 3), f(p99, 3), f(rps, 0),
          direct ? '' : f(p50 - dp50, 3), direct ? '' : f(p99 - dp99, 3),
          direct ? '' : f(p50 / dp50), direct ? '' : f(p99 / dp99), direct ? '' : f(rps / drps),
        ]);
        if (!direct) summary.push(`non-stream c=${c} ${m.name}: +${f(p50 - dp50, 3)} ms p50, +${f(p99 - dp99, 3)} ms p99, throughput x${f(rps / drps)} of direct`);
        // Issue 16's targets (at one client; throughput at 16).
        if (c === 1 && m.name === LIMITED) summary.push(target('with a concurrency limit, added P50 (1 client)', p50 - dp50, '<=', 1, ' ms'), target('with a concurrency limit, added P99 (1 client)', p99 - dp99, '<=', 5, ' ms'));
        if (c === 16 && m.name === LIMITED) summary.push(target('with a concurrency limit, throughput at 16 clients / direct', rps / drps, '>=', 0.4));
        if (c === 1 && m.name === 'gateway, store on') summary.push(target('store on, added P50 (1 client)', p50 - dp50, '<=', 2, ' ms'));
      }
      console.error(`latency: concurrency ${c} done`);
    }

    // A constant arrival rate (open loop), the kind of test TensorZero published, at rates this
    // machine sustains through every mode: direct, the hops with no work, the gateway (store off).
    const rateModes = modes.filter((m) => isBaseline(m.name) || m.name === 'gateway, store off');
    const rateRows: string[][] = [];
    for (const rate of RATES) {
      const acc = new Map<string, { lat: number[]; errors: number }>();
      for (const m of rateModes) await warmAtRate({ rate, url: m.url, body: m.body });
      for (let r = 0; r < ROUNDS; r++) {
        for (const m of rateModes) {
          const res = await loadAtRate({ rate, durationMs: RATE_MS, url: m.url, body: m.body });
          const a = acc.get(m.name) ?? { lat: [], errors: 0 };
          for (const x of res.latencies) a.lat.push(x);
          a.errors += res.errors;
          acc.set(m.name, a);
        }
      }
      const p50 = (name: string) => median(acc.get(name)!.lat);
      const p99 = (name: string) => quantile(acc.get(name)!.lat, 0.99);
      /** This mode's p50 and p99 over those of `base` (blank when not shown or `base` did not run). */
      const over = (name: string, base: string, show = true) =>
        show && acc.has(base) ? [f(p50(name) - p50(base), 3), f(p99(name) - p99(base), 3)] : ['', ''];
      const overText = (name: string, base: string) => `+${over(name, base).join(' / +')} ms`;
      for (const m of rateModes) {
        const a = acc.get(m.name)!;
        const gateway = !isBaseline(m.name);
        rateRows.push([
          String(rate), m.name, String(a.lat.length), String(a.errors), f(p50(m.name), 3), f(p99(m.name), 3),
          ...over(m.name, 'direct', m.name !== 'direct'),
          ...over(m.name, NGINX, m.name === PROXY || gateway),
          ...over(m.name, PROXY, gateway),
        ]);
        if (gateway && rate === 2000) summary.push(target('2,000 req/s, P99 gateway / P99 minimal proxy', p99(m.name) / p99(PROXY), '<=', 2));
        if (gateway || m.name === NGINX) {
          summary.push(`constant ${rate} req/s, ${m.name}: p50 ${f(p50(m.name), 3)} ms, p99 ${f(p99(m.name), 3)} ms; ${overText(m.name, 'direct')} over direct`
            + (gateway && acc.has(NGINX) ? `; over nginx ${overText(m.name, NGINX)}` : '')
            + (gateway ? `; over the minimal proxy ${overText(m.name, PROXY)}` : ''));
        }
      }
      console.error(`latency: ${rate} req/s done`);
    }

    // Streaming, one client at a time, the modes interleaved.
    const streamModes: Mode[] = [
      { name: 'direct', url: `${up.url}/v1/chat/completions`, body: () => directBody('s50x2', true) },
      ...(nginx ? [{ name: NGINX, url: `${nginx.url}/v1/chat/completions`, body: () => directBody('s50x2', true) }] : []),
      { name: PROXY, url: `${proxy.url}/v1/chat/completions`, body: () => directBody('s50x2', true) },
      { name: 'gateway, store off', url: `${gw.url}/v1/responses`, body: () => gatewayBody('s50x2', false, true) },
      { name: 'gateway, store on', url: `${gw.url}/v1/responses`, body: () => gatewayBody('s50x2', true, true) },
      { name: LIMITED, url: `${limited.url}/v1/responses`, body: () => gatewayBody('s50x2', false, true) },
    ];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const runs = new Map<string, Timed[]>(streamModes.map((m) => [m.name, []]));
    for (let i = 0; i < STREAM_RUNS + 3; i++) {
      for (const m of streamModes) {
        const r = await request(agent, 'POST', m.url, m.body(), isBaseline(m.name) ? isDirectDelta : isGatewayDelta, false);
        if (r.status !== 200 || r.marks.length !== 50) throw new Error(`${m.name}: status ${r.status}, ${r.marks.length} deltas`);
        if (i >= 3) runs.get(m.name)!.push(r); // the first three are warm-up
      }
    }
    agent.destroy();
    const stat = (name: string) => {
      const rs = runs.get(name)!;
      const perIndex = Array.from({ length: 50 }, (_, k) => median(rs.map((r) => r.marks[k]!)));
      const gaps = rs.flatMap((r) => r.marks.slice(1).map((t, k) => t - r.marks[k]!));
      return {
        firstByte: median(rs.map((r) => r.firstByte)),
        firstDelta: median(rs.map((r) => r.marks[0]!)),
        end: median(rs.map((r) => r.end)),
        perIndex,
        gap: median(gaps),
      };
    };
    const sd = stat('direct');
    const srows: string[][] = [];
    for (const m of streamModes.slice(1)) {
      const s = stat(m.name);
      const added = median(s.perIndex.map((t, k) => t - sd.perIndex[k]!));
      const addedAfterFirst = median(s.perIndex.map((t, k) => (t - s.perIndex[0]!) - (sd.perIndex[k]! - sd.perIndex[0]!)));
      srows.push([m.name, 'time to first byte', f(sd.firstByte, 3), f(s.firstByte, 3), f(s.firstByte - sd.firstByte, 3), f(s.firstByte / sd.firstByte)]);
      srows.push([m.name, 'time to first text delta', f(sd.firstDelta, 3), f(s.firstDelta, 3), f(s.firstDelta - sd.firstDelta, 3), f(s.firstDelta / sd.firstDelta)]);
      srows.push([m.name, 'time to the end of the stream', f(sd.end, 3), f(s.end, 3), f(s.end - sd.end, 3), f(s.end / sd.end)]);
      srows.push([m.name, 'arrival of each delta (median over the 50)', '', '', f(added, 3), '']);
      srows.push([m.name, 'same, less the first delta\'s delay', '', '', f(addedAfterFirst, 3), '']);
      srows.push([m.name, 'gap between deltas (median)', f(sd.gap, 3), f(s.gap, 3), f(s.gap - sd.gap, 3), f(s.gap / sd.gap)]);
      summary.push(`stream ${m.name}: first byte +${f(s.firstByte - sd.firstByte, 3)} ms (x${f(s.firstByte / sd.firstByte)}), added per event ${f(added, 3)} ms (${f(addedAfterFirst, 3)} ms after the first)`);
    }

    const body = [
      `Command: \`node_modules/.bin/node --import tsx bench/latency.ts\` (also part of \`npm run bench\`). ${machine()}; the load generator,`,
      'the two gateways (`functions/local/main.ts`, the code of `npm start`, run as `node --import tsx` without `tsx`\'s parent process, each with dynalite on',
      'LevelDB in a temp `DATA_DIR`) and the fake Ollama upstream (`bench/upstream.ts`) are separate processes on',
      '127.0.0.1 (a gateway not being measured sits idle), so at 16 and 64 clients they share the cores. The load',
      'generator is our own keep-alive loop (`bench/lib.ts`: N clients, each sending its next request when the previous',
      'one ended), the equivalent of autocannon\'s default mode. *Direct* is POST /v1/chat/completions on the fake',
      'upstream; *gateway* is POST /v1/responses with the same prompt through the translated path to the same upstream',
      `(answer: 60 words, about 330 characters). The modes alternate in ${SLICE_MS} ms slices, ${ROUNDS} rounds each, after a`,
      'warm-up to a steady state (batches of 2,000 requests until the CPU per request stops falling, as in the CPU',
      'section); latencies are per request, in ms. *Gateway, store off / on* is npm start with no concurrency limit',
      `(\`${GATEWAY_CONFIG}\`): no slot lease is taken, so with store off nothing is written to DynamoDB per request;`,
      'store on adds the PutItem of the response (dynalite, inside the gateway process). *Gateway, with a limit* is a',
      `second npm start with \`${LIMITED_CONFIG}\` (enough slots that no request waits for one): every request takes`,
      'and releases a concurrency slot; npm start owns its database, so its slots are counted in the process (no',
      'write; leases on a shared table, as on Lambda, are in "Concurrency leases"). *Minimal proxy* is `bench/minimal-proxy.ts` (node:http, keep-alive client, the upstream\'s answer piped',
      'back, no parsing) in front of the same upstream: what a hop with no work of its own adds on this machine, the',
      'part of the gateway\'s added latency no Node.js gateway can remove. *nginx* (when installed: `apt-get install',
      'nginx-light`; `bench/lib.ts` `spawnNginxProxy`: one process, keep-alive to both sides, no log, no buffering) is the',
      'same hop written in C: what a hop costs on this machine whatever the language.',
      ...(nginx ? [] : ['(nginx was not installed for this run: its rows are missing.)']),
      '',
      table(['clients', 'mode', 'requests', 'errors', 'p50 ms', 'p99 ms', 'req/s', 'added p50 ms', 'added p99 ms', 'p50 gw/direct', 'p99 gw/direct', 'throughput gw/direct'], rows),
      '',
      `At a constant arrival rate (open loop: request i is sent at i/rate, paced by a 1 ms timer, whether or not the`,
      `earlier ones were answered; the kind of load TensorZero's published figures come from), ${RATE_MS / 1000} s per mode and`,
      `round, ${ROUNDS} rounds, the modes interleaved; latency from send to the end of the answer, in ms. "Over the minimal`,
      'proxy" is the gateway\'s latency minus that of a Node.js hop that does no work: what the gateway\'s own work adds;',
      '"over nginx", minus that of a C hop that does no work.',
      '',
      table(['req/s', 'mode', 'requests', 'errors', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'over nginx, p50 ms', 'over nginx, p99 ms', 'over the minimal proxy, p50 ms', 'over the minimal proxy, p99 ms'], rateRows),
      '',
      `Streaming: one client, ${STREAM_RUNS} streams per mode (after 3 warm-up rounds), interleaved; the upstream sends 50`,
      'one-word deltas 2 ms apart (then its finish and usage chunks). Medians in ms. "Arrival of each delta" is, per delta',
      'index, the median arrival time through the gateway minus the median arrival time direct: the delay the gateway',
      'adds to each event. A stored stream writes its in_progress record before the first byte, so its first byte waits',
      'for that PutItem.',
      '',
      table(['mode', 'measure', 'direct', 'gateway', 'added', 'gateway/direct'], srows),
    ].join('\n');
    return { heading: '## Overhead versus calling the upstream directly', body, summary };
  } finally {
    await procs.stop();
  }
}

if (isMain(import.meta.url)) {
  const s = await run();
  console.log(`${s.heading}\n\n${s.body}\n`);
}
