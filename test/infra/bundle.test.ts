// The Lambda bundles as `npm run synth` builds them (infra/bundling.ts's esbuild options): they
// load as ES modules in a plain `node` (the require shim works, no dynamic require of a missing
// module), export their handlers, and carry no AWS SDK client the code does not use. The API's
// handler carries the streaming marker (without it the Node 24 runtime sends its answer buffered,
// and nothing fails); the others are plain async handlers (Node 24 refuses callback-style ones).
// test/lambda-runtime/ runs all three under the real runtime.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { BUNDLE_FILE, FUNCTIONS, PROJECT_ROOT, bundleSettings, esbuildOptions, runtimeModuleCommands } from '../../infra/bundling.ts';

/** The SDK clients the gateway talks to: DynamoDB (state). Step Functions and SSM are a signed call or two (shared/adapters/aws-json.ts). */
const USED_CLIENTS = ['@aws-sdk/client-dynamodb'];
/** What the Lambda runtime's `awslambda.streamifyResponse` sets on a streaming handler (aws-lambda-ric 4). */
const STREAMING_MARKER = "Symbol.for('aws.lambda.runtime.handler.streaming')";
/** Fail well before Lambda's limits matter: a jump past this means a dependency went wrong. */
const MAX_BUNDLE_BYTES = 2 * 1024 * 1024;
/** The API's cold start: its bundle at most 450 KB (issue 16; bench/bundle.ts measures its import time). */
const MAX_API_BUNDLE_BYTES = 450_000;

const outRoot = mkdtempSync(join(tmpdir(), 'gw-bundle-test-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

describe('Lambda bundles', () => {
  it.each(FUNCTIONS.map((f) => [f.id, f] as const))('%s loads as ESM and exports its handler (the streaming marker on the API only)', async (_, spec) => {
    const outfile = join(outRoot, spec.id, BUNDLE_FILE);
    const result = await build({ ...esbuildOptions(bundleSettings(), spec.entry, outfile), metafile: true, logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    const size = readFileSync(outfile).length;
    expect(size).toBeLessThan(spec.id === 'Api' ? MAX_API_BUNDLE_BYTES : MAX_BUNDLE_BYTES);
    const clients = new Set(
      Object.keys(result.metafile!.inputs).flatMap((p) => /node_modules\/(@aws-sdk\/client-[^/]+)\//.exec(p)?.[1] ?? []),
    );
    for (const c of clients) expect(USED_CLIENTS).toContain(c);
    expect(Object.keys(result.metafile!.inputs).filter((p) => p.includes('node_modules/zod/v4/classic/'))).toEqual([]); // zod/mini only

    // A fresh node, as Lambda loads index.mjs (with the runtime's `awslambda` global, which
    // marks what it streamifies as the runtime does).
    const script = [
      `globalThis.awslambda={streamifyResponse:(f)=>{f[${STREAMING_MARKER}]='response';return f},HttpResponseStream:{from:(s)=>s}};`,
      `const m=await import(${JSON.stringify(pathToFileURL(outfile).href)});`,
      `const h=m[${JSON.stringify(spec.handler)}];`,
      `console.log(JSON.stringify({type:typeof h,marker:h?.[${STREAMING_MARKER}]??null,params:h?.length}));`,
    ].join('');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' } });
    expect(r.stderr).not.toMatch(/Dynamic require|ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
    expect(r.status).toBe(0);
    const handler = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(handler.type).toBe('function');
    expect(handler.marker).toBe(spec.id === 'Api' ? 'response' : null);
    if (spec.id !== 'Api') expect(handler.params).toBeLessThan(3);
  });

  it('ship unpdf beside the bundle, where its dynamic import finds it', async () => {
    const dir = join(outRoot, 'runtime-modules');
    const outfile = join(dir, BUNDLE_FILE);
    const result = await build({ ...esbuildOptions(bundleSettings(), 'shared/adapters/pdf-text.ts', outfile), logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    expect(readFileSync(outfile, 'utf8')).not.toContain('PDFDocumentProxy'); // PDF.js is not in the bundle
    for (const cmd of runtimeModuleCommands(PROJECT_ROOT, dir)) expect(spawnSync('sh', ['-c', cmd]).status).toBe(0);
    const script = `const m=await import(${JSON.stringify(pathToFileURL(outfile).href)});console.log(typeof (await import(${JSON.stringify(pathToFileURL(join(dir, 'node_modules/unpdf/dist/index.mjs')).href)})).getDocumentProxy, typeof m.pdfReader.pdfText);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function function');
    // The bundle's own `import("unpdf")` resolves from the asset directory.
    const resolve = spawnSync(process.execPath, ['-e', `console.log(require('node:module').createRequire(${JSON.stringify(outfile)}).resolve('unpdf'))`], { encoding: 'utf8' });
    expect(resolve.stdout.trim()).toBe(join(dir, 'node_modules/unpdf/dist/index.cjs'));
  });
});
