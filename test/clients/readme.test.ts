// The README's curl examples, run as written (bash, curl, jq) against the gateway in front of a
// stand-in for Ollama: only the address is changed.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type System } from '../helpers/harness.ts';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const tools = has('curl') && has('jq') && has('bash');

/** The first ```sh block after `heading`. */
function shBlock(heading: string): string {
  const from = README.indexOf(heading);
  const m = /```sh\n([\s\S]*?)```/.exec(README.slice(from));
  if (from < 0 || !m) throw new Error(`no sh block after ${heading}`);
  return m[1]!;
}

/** Runs a script (not spawnSync: the gateway answers from this very process). */
function bash(script: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const proc = spawn('bash', ['-e', '-c', script]);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => { stdout += c; });
  proc.stderr.on('data', (c: Buffer) => { stderr += c; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => proc.once('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); }));
}

let sys: System;
beforeAll(async () => {
  sys = await startSystem({ upstreams: [{ flavor: 'ollama', models: ['llama3.2:latest'] }], extraConfig: 'flush_ms: 20\npoll_ms: 20' });
  sys.upstreams[0]!.fallback = (req) => (JSON.stringify(req.body).includes('long story')
    ? { text: 'Once upon a time '.repeat(40), chunkSize: 4, chunkDelayMs: 40 } // runs for seconds: the cancel lands while it runs
    : { text: 'Bonjour !' });
});
afterAll(() => sys.close());

describe('README', () => {
  it.skipIf(!tools)('the curl examples of "Run it" work as written', async () => {
    const script = shBlock('### curl').replaceAll('http://127.0.0.1:12434', sys.gw.url);
    const run = await bash(script);
    expect(run.status, run.stderr).toBe(0);
    const out = run.stdout;
    expect(out).toContain('"output_text":"Bonjour !"'); // the JSON answer
    expect(out).toContain('event: response.output_text.delta'); // the stream
    // The background job: cancelled while its live stream ran, which then ended with it.
    expect(out).toContain('"cancelled"\n');
    expect(out).toMatch(/event: response\.failed\ndata: \{[^\n]*"status":"cancelled"/);
    expect(out).toMatch(/"object":"list","data":\[\{[^\n]*"My name is Ada"/); // the conversation's items
  });
});
