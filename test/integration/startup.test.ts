// `npm start`'s entry (functions/local/main.ts) in its own process: what it says at start about the
// config, and how it refuses one it cannot run with.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'gw-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts main.ts on `config` and returns what it printed once it listens or exits (bounded). */
function start(config: string, env: Record<string, string> = {}, opts: { stopMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const path = join(dir, `config-${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(path, config);
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'functions/local/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: join(dir, `data-${Math.random().toString(16).slice(2)}`), NOMYO_ROUTER_CONFIG_PATH: path, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  // Stopped a moment after it listens, so the lines written right after reach us.
  proc.stdout.on('data', (c: Buffer) => { stdout += c; if (stdout.includes('listening on')) setTimeout(() => proc.kill('SIGTERM'), opts.stopMs ?? 300); });
  proc.stderr.on('data', (c: Buffer) => { stderr += c; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => proc.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); }));
}

describe('npm start', () => {
  it('refuses a config with an unset client key variable: exit 1, one line naming the file and the key, no stack', async () => {
    const { code, stdout, stderr } = await start('endpoints: ["http://127.0.0.1:9"]\nrouter_api_keys:\n  alice: "${ALICE_KEY_UNSET}"\n');
    expect(code).toBe(1);
    expect(stdout).not.toContain('listening on');
    expect(stderr).toMatch(/^Cannot start: config .*config-\w+\.yaml: router_api_keys\.alice: \$\{ALICE_KEY_UNSET\} is not set/m);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('logs at the level the config names: log_level warn keeps the info lines out', async () => {
    const quiet = await start('endpoints: ["http://127.0.0.1:9"]\nlog_level: warn\n');
    expect(quiet.stdout).toContain('listening on');
    expect(quiet.stdout).not.toContain('"level":"INFO"');
    const chatty = await start('endpoints: ["http://127.0.0.1:9"]\nlog_level: info\n');
    expect(chatty.stdout).toMatch(/"level":"INFO","message":"started"/);
  });

  it('one process per data directory: a second one on the same DATA_DIR exits at once, naming it', async () => {
    const dataDir = join(dir, 'shared-data');
    const first = start('endpoints: ["http://127.0.0.1:9"]\n', { DATA_DIR: dataDir }, { stopMs: 4_000 });
    for (let i = 0; i < 200 && !existsSync(join(dataDir, 'gateway.pid')); i++) await new Promise((r) => setTimeout(r, 50)); // it holds the directory
    const second = await start('endpoints: ["http://127.0.0.1:9"]\n', { DATA_DIR: dataDir });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`Cannot start: DATA_DIR ${dataDir} is in use by another gateway process`);
    expect(second.stderr).not.toMatch(/Database is closed|^\s+at /m);
    expect((await first).stdout).toContain('listening on');
    // Once the first has stopped, the directory is free again.
    const third = await start('endpoints: ["http://127.0.0.1:9"]\n', { DATA_DIR: dataDir });
    expect(third.stdout).toContain('listening on');
  });

  it("says at start which of NOMYO Router's keys it does not use as written", async () => {
    const { stdout, stderr } = await start([
      'endpoints: ["http://127.0.0.1:9"]', 'llama_server_endpoints: ["http://127.0.0.1:9/v1"]', 'nomyo-router-api-key: "k"',
      'cache_backend: redis', 'cache_similarity: 0.8', 'db_path: token_counts.db', 'colour: blue',
    ].join('\n'));
    expect(stdout).toContain('listening on');
    for (const key of ['cache_backend', 'cache_similarity', 'db_path', 'colour']) expect(stderr).toMatch(new RegExp(`"level":"WARN".*config .*: ${key}: `));
    expect(stderr).not.toMatch(/router_api_key: no client key/);
  });
});
