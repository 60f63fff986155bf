// Where the gateway's CPU goes: `npm start` under `node --cpu-prof`, driven with non-stream or
// streamed requests, then the profile's self time grouped by function and by file.
// Run: node_modules/.bin/node --import tsx bench/profile.ts [--stream] [--store] [--limit] [--requests N] [--concurrency N] [--top N] [--keep]
//   By default npm start runs with no concurrency limit (GATEWAY_CONFIG: no slot, so with store
//   off no DynamoDB write per request); --limit gives it one (LIMITED_CONFIG), so every request
//   takes and frees a slot, counted in the process (npm start owns its database: no write; a
//   shared table's leases are in docs/benchmarks.md, "Concurrency leases").
//   --keep leaves the .cpuprofile (open it in Chrome DevTools or speedscope) and prints its path.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayBody, isGatewayDelta } from './latency.ts';
import { GATEWAY_CONFIG, LIMITED_CONFIG, ROOT, f, isMain, load, spawnGateway, spawnUpstream, warmUp } from './lib.ts';


interface CpuProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: CpuProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileSummary {
  totalMs: number;
  byFunction: Array<[string, number]>;
  byFile: Array<[string, number]>;
  /** Self time charged to the nearest caller in our code (shared/, functions/): what each of our functions costs, all in. */
  byOurCaller: Array<[string, number]>;
}

const where = (url: string): string => {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m ? `npm:${m[1]}` : relative(ROOT, path);
};

/** Self time of the samples taken from `fromUs` on (V8's clock: CLOCK_MONOTONIC in µs, as process.hrtime here). */
export function summarize(profile: CpuProfile, fromUs = 0, toUs = Infinity): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0; // the delta after a sample is the time it stood for
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt);
  }
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ours = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const { functionName, url, lineNumber } = byId.get(cur)!.callFrame;
      const w = where(url);
      if (/^(shared|functions)\//.test(w)) return `${functionName || '(anonymous)'} ${w}:${lineNumber + 1}`;
    }
    return '(not under our code)';
  };
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  const caller = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    total += us;
    const w = where(url);
    const key = `${functionName || '(anonymous)'} ${w}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    file.set(w, (file.get(w) ?? 0) + us);
    const o = ours(id);
    caller.set(o, (caller.get(o) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([k, v]) => [k, v / 1000] as [string, number]).sort((a, b) => b[1] - a[1]);
  return { totalMs: total / 1000, byFunction: sorted(fn), byFile: sorted(file), byOurCaller: sorted(caller) };
}

export async function profileGateway(opts: { stream?: boolean; store?: boolean; requests?: number; concurrency?: number; extraConfig?: string; entry?: string } = {}): Promise<ProfileSummary & { file: string; requests: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-prof-'));
  const up = await spawnUpstream();
  const gw = await spawnGateway({ upstreamUrl: up.url, extraConfig: opts.extraConfig ?? GATEWAY_CONFIG, entry: opts.entry, nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir] });
  const requests = opts.requests ?? (opts.stream ? 100 : 5000);
  let fromUs = 0;
  let toUs = Infinity;
  try {
    // Only the warm process is summarized: start-up and the JIT's first thousands of requests are not the request path.
    await warmUp(gw.pid, { url: `${gw.url}/v1/responses`, body: () => gatewayBody('chat', !!opts.store), maxBatches: 6 });
    if (opts.stream) await load({ concurrency: 4, maxRequests: 20, maxMs: 60_000, url: `${gw.url}/v1/responses`, body: () => gatewayBody('s1000x0', !!opts.store, true) });
    fromUs = Number(process.hrtime.bigint() / 1000n);
    const body = () => (opts.stream ? gatewayBody('s1000x0', !!opts.store, true) : gatewayBody('chat', !!opts.store));
    const r = await load({ concurrency: opts.concurrency ?? 16, maxRequests: requests, maxMs: 60_000, url: `${gw.url}/v1/responses`, body, mark: opts.stream ? isGatewayDelta : undefined });
    if (r.errors) throw new Error(`${r.errors} requests failed`);
    toUs = Number(process.hrtime.bigint() / 1000n);
  } finally {
    await gw.stop(); // SIGINT: the profile is written as the process exits
    await up.stop();
  }
  const file = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const path = join(dir, file);
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  // Samples after the last request are the shutdown's.
  return { ...summarize(profile, fromUs, toUs), file: path, requests };
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  const num = (flag: string, dflt: number) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : dflt);
  const top = num('--top', 30);
  const p = await profileGateway({ stream: args.includes('--stream'), store: args.includes('--store'), requests: num('--requests', args.includes('--stream') ? 100 : 5000), concurrency: num('--concurrency', 16), extraConfig: args.includes('--limit') ? LIMITED_CONFIG : GATEWAY_CONFIG, entry: args.includes('--entry') ? args[args.indexOf('--entry') + 1] : undefined });
  console.log(`profile: ${f(p.totalMs, 0)} ms of samples (idle excluded; after a warm-up to a steady state) for ${p.requests} requests\n`);
  console.log('self time by file:');
  for (const [k, v] of p.byFile.slice(0, top)) console.log(`  ${f(v, 1).padStart(9)} ms  ${f((100 * v) / p.totalMs, 1).padStart(5)}%  ${k}`);
  console.log('\nself time by function:');
  for (const [k, v] of p.byFunction.slice(0, top)) console.log(`  ${f(v, 1).padStart(9)} ms  ${f((100 * v) / p.totalMs, 1).padStart(5)}%  ${k}`);
  console.log('\nself time charged to the nearest caller in our code:');
  for (const [k, v] of p.byOurCaller.slice(0, top)) console.log(`  ${f(v, 1).padStart(9)} ms  ${f((100 * v) / p.totalMs, 1).padStart(5)}%  ${k}`);
  if (args.includes('--keep')) console.log(`\nprofile kept: ${p.file}`);
  else rmSync(join(p.file, '..'), { recursive: true, force: true });
}
