// `npm run bench`: every bench in sequence, then a summary. Each bench bounds itself in time and
// count and stops its own processes.
//   npm run bench                      all of them (about 7 minutes)
//   npm run bench -- --quick           shorter runs (for a smoke test)
//   npm run bench -- --write           also replace the measured sections of docs/benchmarks.md
//   npm run bench -- --only cpu,memory pick benches (latency, cpu, translator, memory, dynamo,
//                                      gc, background, leases, cache, bundle, costs)
// dynamo (bench/dynamo-round-trips.ts), background (bench/background-latency.ts), leases
// (bench/lease-costs.ts), cache (bench/cache.ts), bundle (bench/bundle.ts --no-write) and costs
// (bench/lambda-costs.ts) stay
// runnable on their own and run here as child processes; their doc sections are their own.
// Where the CPU goes: bench/profile.ts (--cpu-prof); before/after of a change: bench/ab.ts.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, hasProc, machine, writeSections, type Section } from './lib.ts';

const args = process.argv.slice(2);
const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1]!.split(',')) : null;
const want = (name: string) => !only || only.has(name);

if (!hasProc()) throw new Error('the benches read /proc/<pid>/stat and /proc/<pid>/status: Linux only');

const sections: Section[] = [];
const summary: string[] = [];
const timings: string[] = [];
/** Figures beside their targets (lines `target: ...`, bench/lib.ts target()). */
const targets: string[] = [];

async function bench(name: string, load: () => Promise<{ run: () => Promise<Section> }>): Promise<void> {
  if (!want(name)) return;
  const t0 = performance.now();
  console.error(`\n=== ${name}`);
  const s = await (await load()).run();
  console.log(`\n${s.heading}\n\n${s.body}\n`);
  sections.push(s);
  summary.push(...s.summary.filter((l) => !l.startsWith('target: ')));
  targets.push(...s.summary.filter((l) => l.startsWith('target: ')));
  timings.push(`${name} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

function script(name: string, file: string, extra: string[] = []): void {
  if (!want(name)) return;
  const t0 = performance.now();
  console.error(`\n=== ${name} (${file})`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, file), ...extra], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  console.log(r.stdout);
  targets.push(...r.stdout.split('\n').filter((l) => l.startsWith('target: ')));
  if (r.status !== 0) {
    console.error(r.stderr);
    summary.push(`${name}: FAILED (exit ${r.status ?? r.signal})`);
  } else summary.push(`${name}: see its table above (${file})`);
  timings.push(`${name} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const t0 = performance.now();
await bench('latency', () => import('./latency.ts'));
await bench('cpu', () => import('./cpu.ts'));
await bench('translator', () => import('./translator.ts'));
await bench('memory', () => import('./memory.ts'));
script('dynamo', 'bench/dynamo-round-trips.ts');
script('background', 'bench/background-latency.ts');
script('leases', 'bench/lease-costs.ts');
script('cache', 'bench/cache.ts');
script('bundle', 'bench/bundle.ts', ['--no-write', '--runs', '3']);
await bench('gc', () => import('./gc.ts'));
script('costs', 'bench/lambda-costs.ts', args.includes('--quick') ? ['--quick'] : []);

console.log(`\n## Summary (${machine()}; ${((performance.now() - t0) / 1000).toFixed(0)} s: ${timings.join(', ')})\n`);
for (const line of summary) console.log(`- ${line}`);
if (targets.length) {
  console.log('\n## Figures beside their targets (issue 16)\n');
  for (const line of targets) console.log(`- ${line.slice('target: '.length)}`);
}
if (args.includes('--write') && sections.length) console.log(`\nwritten to ${writeSections(sections)}`);
