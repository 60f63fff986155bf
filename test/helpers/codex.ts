// The real Codex CLI (npm @openai/codex 0.169.0, its native binary) for tests: a temporary
// CODEX_HOME holding the README's config.toml and model catalog, a work dir outside any git
// repository, and `codex exec` bounded in time, with stdin closed and every proxy variable pointing
// at a closed port: Codex 0.169 also tries github.com, api.github.com, chatgpt.com and
// ab.chatgpt.com (through the proxy, seen with a listening trap), and those fail at once, so
// nothing leaves the machine and nothing waits on the network.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
export const CODEX = join(ROOT, 'node_modules', '.bin', 'codex');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Why the binary cannot run here, or null. */
export function codexMissing(): string | null {
  const r = spawnSync(CODEX, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status === 0 && r.stdout.includes('0.169.0')) return null;
  return `codex --version: ${r.error?.message ?? (r.stderr || r.stdout || `exit ${r.status}`)}`;
}

/** The first ```lang block after `heading` in the README. */
export function readmeBlock(heading: string, lang: 'toml' | 'json' | 'sh'): string {
  const from = README.indexOf(heading);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(README.slice(from));
  if (from < 0 || !m) throw new Error(`README: no ${lang} block after ${heading}`);
  return m[1]!;
}

export interface CodexRun { code: number | null; stdout: string; stderr: string }

/** One Codex home (config, catalog, sessions) and one work dir, removed by close(). */
export class CodexSession {
  readonly home = mkdtempSync(join(tmpdir(), 'codex-home-'));
  readonly work = mkdtempSync(join(tmpdir(), 'codex-work-'));
  readonly catalogPath = join(this.home, 'gateway-models.json');

  /** `config`: config.toml; `${CATALOG}` in it is replaced by the path `catalog` is written to. */
  constructor(config: string, catalog?: string) {
    writeFileSync(join(this.home, 'config.toml'), config.replaceAll('${CATALOG}', this.catalogPath));
    if (catalog) writeFileSync(this.catalogPath, catalog);
  }

  file(name: string, text?: string): string {
    if (text !== undefined) writeFileSync(join(this.work, name), text);
    return readFileSync(join(this.work, name), 'utf8');
  }

  /** `codex <args>` in the work dir, killed after `timeoutMs`. */
  run(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<CodexRun> {
    const trap = 'http://127.0.0.1:9';
    const proc = spawn(CODEX, args, {
      cwd: this.work,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.home, CODEX_HOME: this.home, TERM: 'dumb', NO_COLOR: '1',
        HTTP_PROXY: trap, HTTPS_PROXY: trap, ALL_PROXY: trap, http_proxy: trap, https_proxy: trap, all_proxy: trap,
        NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => { stdout += c; });
    proc.stderr.on('data', (c: Buffer) => { stderr += c; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    return new Promise((resolve) => proc.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); }));
  }

  close(): void {
    rmSync(this.home, { recursive: true, force: true });
    rmSync(this.work, { recursive: true, force: true });
  }
}

/** `codex exec` as the README shows it, non-interactive, no sandbox, no approvals. */
export const execArgs = (prompt: string) => ['exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', prompt];
export const resumeArgs = (prompt: string) => ['exec', 'resume', '--last', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', prompt];
