// Lambda bundle size and cold-start import time: `node_modules/.bin/node --import tsx bench/bundle.ts [--runs N] [--no-write]`.
//
// Each function is bundled with esbuild exactly as NodejsFunction does in `npm run synth` (the
// options come from infra/bundling.ts, the module the stack uses; when cdk.out/ exists the
// bundles are compared byte for byte with its assets). Then, per bundle: size, gzip size, the
// AWS SDK clients inside, the largest packages, and the time `await import(bundle)` takes in a
// fresh `node` process (median of N). Figures go to docs/benchmarks.md under
// "## Lambda bundles and cold start" (that section only is replaced on every run).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { machine, median, target, writeSections } from './lib.ts';
import { BUNDLE_FILE, FUNCTIONS, PROJECT_ROOT, RUNTIME_MODULES, bundleSettings, esbuildOptions } from '../infra/bundling.ts';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--runs') ? 0 : 9);
const write = !args.includes('--no-write');
const HEADING = '## Lambda bundles and cold start';

// The Lambda runtime provides `awslambda` (the API handler streams through it at import time).
const RUNTIME_STUB = 'globalThis.awslambda={streamifyResponse:(f)=>f,HttpResponseStream:{from:(s)=>s}};';

interface Row {
  id: string;
  entry: string;
  bytes: number;
  gzip: number;
  sdkClients: string[];
  topPackages: [string, number][];
  importMs: number[];
  file: string;
  sameAsCdkOut: boolean | null;
}

const BASELINE_SOURCE = "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; export const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));";

const sha = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

function cdkOutHashes(): Set<string> | null {
  const dir = join(PROJECT_ROOT, 'cdk.out');
  if (!existsSync(dir)) return null;
  const out = new Set<string>();
  for (const d of readdirSync(dir)) {
    const f = join(dir, d, BUNDLE_FILE);
    if (d.startsWith('asset.') && existsSync(f)) out.add(sha(readFileSync(f)));
  }
  return out.size > 0 ? out : null;
}

function packageOf(path: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.replaceAll('\\', '/'));
  return m ? m[1]! : '(our code)';
}

function importOnce(file: string): number {
  const script = `${RUNTIME_STUB}const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});console.log(performance.now()-t);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' } });
  if (r.status !== 0) throw new Error(`import of ${file} failed:\n${r.stderr}`);
  return Number(r.stdout.trim().split('\n').pop());
}

/** Import times of each file in fresh processes, the files taken in turn so drift hits them alike. */
function measureImports(files: string[]): number[][] {
  const times = files.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) files.forEach((file, k) => times[k]!.push(importOnce(file)));
  return times;
}

async function main(): Promise<void> {
  const settings = bundleSettings();
  const outRoot = mkdtempSync(join(tmpdir(), 'gw-bundles-'));
  const cdkOut = cdkOutHashes();
  const rows: Row[] = [];
  let baseline = { bytes: 0, importMs: [] as number[] };
  try {
    for (const spec of FUNCTIONS) {
      const outfile = join(outRoot, spec.id, BUNDLE_FILE);
      // metafile only reports what went in; the output bytes are the same without it.
      const result = await build({ ...esbuildOptions(settings, spec.entry, outfile), metafile: true });
      const buf = readFileSync(outfile);
      const meta = result.metafile as Metafile;
      const inputs = Object.values(meta.outputs).flatMap((o) => Object.entries(o.inputs));
      const byPkg = new Map<string, number>();
      for (const [path, info] of inputs) byPkg.set(packageOf(path), (byPkg.get(packageOf(path)) ?? 0) + info.bytesInOutput);
      rows.push({
        id: spec.id,
        entry: spec.entry,
        bytes: buf.length,
        gzip: gzipSync(buf).length,
        sdkClients: [...byPkg.keys()].filter((p) => /^@aws-sdk\/client-/.test(p)).sort(),
        topPackages: [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 5),
        importMs: [],
        file: outfile,
        sameAsCdkOut: cdkOut ? cdkOut.has(sha(buf)) : null,
      });
    }
    // The baseline of issue 16: a bundle holding only the DynamoDB document client, built the same way.
    const baseFile = join(outRoot, 'baseline', BUNDLE_FILE);
    await build({
      ...esbuildOptions(settings, '', baseFile),
      entryPoints: undefined,
      stdin: { contents: BASELINE_SOURCE, resolveDir: PROJECT_ROOT, loader: 'ts', sourcefile: 'baseline.ts' },
    });
    const times = measureImports([baseFile, ...rows.map((r) => r.file)]);
    baseline = { bytes: readFileSync(baseFile).length, importMs: times[0]! };
    rows.forEach((r, k) => { r.importMs = times[k + 1]!; });
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
  }

  const lines = [
    `Command: \`node_modules/.bin/node --import tsx bench/bundle.ts\` (${runs} fresh \`node\` processes per bundle, median). Measured ${new Date().toISOString().slice(0, 10)} on`,
    `${machine()}, ${arch()}. Lambda runs these on Node 24 / arm64, so the import`,
    'times are for comparing bundles with each other and over time, not a prediction of Lambda\'s Init Duration.',
    '',
    'Bundles: esbuild with the options of `infra/bundling.ts` (ESM, node24, minified, no source map; the AWS',
    'SDK v3 clients are bundled at the lockfile\'s versions). External, shipped beside the bundle in the asset\'s',
    `node_modules and loaded only on first use: ${RUNTIME_MODULES.map((m) => `\`${m}\``).join(', ')} (PDF text for Chat backends).`,
    '',
    '| function | entry | bundle | gzip | AWS SDK clients inside | import (median) | min..max | same bytes as `cdk synth` |',
    '| --- | --- | ---: | ---: | --- | ---: | --- | --- |',
    ...rows.map((r) => `| ${r.id} | \`${r.entry}\` | ${kb(r.bytes)} (${r.bytes} B) | ${kb(r.gzip)} | ${r.sdkClients.map((c) => `\`${c}\``).join(', ') || 'none'} | ${median(r.importMs).toFixed(1)} ms | ${Math.min(...r.importMs).toFixed(1)}..${Math.max(...r.importMs).toFixed(1)} ms | ${r.sameAsCdkOut === null ? 'no cdk.out to compare' : r.sameAsCdkOut ? 'yes' : 'NO'} |`),
    '',
    `Baseline: a bundle holding only the DynamoDB document client (\`${BASELINE_SOURCE}\`), built the same way: ${kb(baseline.bytes)}, import ${median(baseline.importMs).toFixed(1)} ms (median). Each function's import over it: ${rows.map((r) => `${r.id} ${(median(r.importMs) / median(baseline.importMs)).toFixed(2)}x`).join(', ')} (target: at most 2.5x).`,
    '',
    'Largest packages in each bundle (bytes of minified output):',
    '',
    ...rows.map((r) => `- ${r.id}: ${r.topPackages.map(([p, n]) => `${p} ${kb(n)}`).join(', ')}`),
  ];
  const body = lines.join('\n');
  console.log(`${HEADING}\n\n${body}\n`);
  const api = rows.find((r) => r.id === 'Api')!;
  console.log(target('Api bundle size', api.bytes / 1000, '<=', 450, ' KB'));
  for (const r of rows) console.log(target(`${r.id} bundle import / DynamoDB document client alone`, median(r.importMs) / median(baseline.importMs), '<=', 2.5));

  if (write) console.log(`written to ${writeSections([{ heading: HEADING, body, summary: [] }])}`);
}

await main();
