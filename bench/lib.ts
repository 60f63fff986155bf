// Shared pieces of the benches: the gateway and the fake upstream as child processes of their
// own (their CPU time and memory read from /proc), a keep-alive HTTP load loop, statistics, and
// the writer of docs/benchmarks.md sections.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Config of the gateway under test: npm start with no concurrency limit, so no request takes a
 * slot lease and, with store off, nothing is written to DynamoDB (dynalite) per request.
 */
export const GATEWAY_CONFIG = 'max_concurrent_connections: 0';

/**
 * npm start with a concurrency limit high enough that no request of a bench waits for a slot (a
 * bench measures overhead, not the limit): every request takes and frees a slot. npm start owns
 * its database, so its slots are counted in the process, with no write (a shared table's leases
 * are measured by bench/lease-costs.ts).
 */
export const LIMITED_CONFIG = 'max_concurrent_connections: 256';

// ── child processes ──────────────────────────────────────────────────────────

export interface Child {
  pid: number;
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
  /** Where its stdout goes (a gateway's: a file, see spawnGateway). */
  stdoutFile?: string;
}

/**
 * Resolves with the first line of `file` (a child's stdout) that `match` accepts, or rejects when
 * the child exits first or after `timeoutMs`.
 */
async function waitForFileLine<T>(file: string, proc: ChildProcess, match: (line: string) => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const r = match(line);
      if (r !== undefined) return r;
    }
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}) before it was up\n${err}`);
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms\n${err}`);
    await sleep(50);
  }
}

/** Resolves with the first stdout line that `match` accepts (its result), or rejects on exit / time-out. */
function waitForLine<T>(proc: ChildProcess, match: (line: string) => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`${what} did not start within ${timeoutMs} ms\n${err}`)), timeoutMs);
    const onData = (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const r = match(line);
        if (r !== undefined) { done(); resolve(r); return; }
      }
    };
    const onErr = (d: Buffer) => { err += d.toString(); };
    const onExit = (code: number | null) => fail(new Error(`${what} exited (${code}) before it was up\n${err}`));
    const done = () => {
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.off('exit', onExit);
      // Keep draining the pipes so the child never blocks on a full one.
      proc.stdout!.resume();
    };
    const fail = (e: Error) => { done(); reject(e); };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onErr);
    proc.once('exit', onExit);
  });
}

function stopper(proc: ChildProcess, cleanup: () => void = () => {}): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    cleanup();
  };
}

/** The fake upstream (bench/upstream.ts) in its own process. */
export async function spawnUpstream(opts: { cpus?: string } = {}): Promise<Child> {
  const argv = ['--import', 'tsx', join(ROOT, 'bench/upstream.ts')];
  const [cmd, cmdArgs] = opts.cpus ? ['taskset', ['-c', opts.cpus, process.execPath, ...argv]] : [process.execPath, argv];
  const proc = spawn(cmd, cmdArgs, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const url = await waitForLine(proc, (l) => (l.startsWith('{"url"') ? (JSON.parse(l) as { url: string }).url : undefined), 'fake upstream');
  return { pid: proc.pid!, url, proc, stop: stopper(proc) };
}

export interface GatewayChildOptions {
  upstreamUrl: string;
  /** Extra YAML for the config. */
  extraConfig?: string;
  /** Node flags before `--import tsx` (e.g. --cpu-prof). */
  nodeFlags?: string[];
  env?: Record<string, string>;
  /** The server script (default functions/local/main.ts, i.e. `npm start`). */
  entry?: string;
  /** The source tree to run it from (default this one; bench/ab.ts runs two trees side by side). */
  root?: string;
  /** CPUs to pin the process to (`taskset -c`), e.g. '1'. */
  cpus?: string;
}

/**
 * `npm start`'s code in a child process: `process.execPath --import tsx functions/local/main.ts`
 * (the same code as `npm start`, without the parent process its `tsx` command adds), with
 * PORT=0, DATA_DIR and NOMYO_ROUTER_CONFIG_PATH in a fresh temp dir (dynalite on LevelDB there).
 */
export async function spawnGateway(opts: GatewayChildOptions): Promise<Child & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, [
    'endpoints:',
    `  - "${opts.upstreamUrl}"`,
    'api_keys: {}',
    'sweep_interval_ms: 3600000',
    opts.extraConfig ?? '',
  ].join('\n'));
  const root = opts.root ?? ROOT;
  const argv = [...(opts.nodeFlags ?? []), '--import', 'tsx', join(root, opts.entry ?? 'functions/local/main.ts')];
  // taskset execs node: the pid stays the server's.
  const [cmd, cmdArgs] = opts.cpus ? ['taskset', ['-c', opts.cpus, process.execPath, ...argv]] : [process.execPath, argv];
  // Its stdout (a log line per request) goes to a file: through a pipe, a write blocks whenever
  // this process, busy sending the load, is slow to read, and the gateway stalls for it.
  const stdoutFile = join(dir, 'stdout.log');
  const out = openSync(stdoutFile, 'w');
  const proc = spawn(cmd, cmdArgs, {
    cwd: root,
    stdio: ['ignore', out, 'pipe'],
    env: { ...process.env, PORT: '0', DATA_DIR: join(dir, 'data'), NOMYO_ROUTER_CONFIG_PATH: configPath, ...opts.env },
  });
  closeSync(out);
  const url = await waitForFileLine(stdoutFile, proc, (l) => /listening on (http:\/\/[^\s"]+)\/v1/.exec(l)?.[1], 'gateway');
  const gw = { pid: proc.pid!, url, proc, dir, stdoutFile, stop: stopper(proc, () => rmSync(dir, { recursive: true, force: true })) };
  const health = await request(new http.Agent(), 'GET', `${url}/health`);
  if (health.status !== 200) throw new Error(`gateway /health answered ${health.status}`);
  return gw;
}

/** The minimal proxy (bench/minimal-proxy.ts) in front of `up`: the floor of any Node.js gateway. */
export const spawnMinimalProxy = (up: Child, nodeFlags: string[] = []) => spawnGateway({ upstreamUrl: up.url, entry: 'bench/minimal-proxy.ts', env: { UPSTREAM: up.url }, nodeFlags });

/** Where nginx is installed, if it is (`apt-get install nginx-light`): the benches then add it as a baseline. */
function nginxPath(): string | undefined {
  return ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx', '/usr/local/nginx/sbin/nginx'].find((p) => existsSync(p));
}

/** A port nothing listens on now (nginx takes no port 0). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * nginx as a reverse proxy in front of `up`: one process (no master), keep-alive to the client and
 * to the upstream, no access log, no buffering. What a hop written in C costs on this machine, the
 * floor under any gateway, whatever its language. Undefined when nginx is not installed.
 */
export async function spawnNginxProxy(up: Child): Promise<Child | undefined> {
  const bin = nginxPath();
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'nginx-bench-'));
  const port = await freePort();
  const upstream = new URL(up.url);
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp-body;
  proxy_temp_path ${dir}/tmp-proxy;
  fastcgi_temp_path ${dir}/tmp-fastcgi;
  uwsgi_temp_path ${dir}/tmp-uwsgi;
  scgi_temp_path ${dir}/tmp-scgi;
  upstream fake { server ${upstream.host}; keepalive 256; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    keepalive_requests 10000000;
    location / {
      proxy_pass http://fake;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`);
  const proc = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.resume();
  proc.stderr!.resume();
  const url = `http://127.0.0.1:${port}`;
  const child = { pid: proc.pid!, url, proc, stop: stopper(proc, () => rmSync(dir, { recursive: true, force: true })) };
  for (let i = 0; ; i++) {
    const r = await request(new http.Agent(), 'GET', `${url}/v1/models`).catch(() => undefined);
    if (r?.status === 200) return child;
    if (i === 100 || proc.exitCode !== null) {
      const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8').slice(0, 500) : '';
      await child.stop();
      throw new Error(`nginx did not start: ${log}`);
    }
    await sleep(50);
  }
}

/**
 * What the CPU and latency benches compare: the fake upstream, npm start with no limit and with
 * one, the minimal proxy, and nginx when it is installed.
 */
export async function spawnComparison(): Promise<{ up: Child; free: Child; limited: Child; proxy: Child; nginx?: Child; stop(): Promise<void> }> {
  const up = await spawnUpstream();
  const free = await spawnGateway({ upstreamUrl: up.url, extraConfig: GATEWAY_CONFIG });
  const limited = await spawnGateway({ upstreamUrl: up.url, extraConfig: LIMITED_CONFIG });
  const proxy = await spawnMinimalProxy(up);
  const nginx = await spawnNginxProxy(up);
  return {
    up, free, limited, proxy, nginx,
    stop: async () => {
      for (const c of [free, limited, proxy, nginx, up]) await c?.stop();
    },
  };
}

// ── /proc accounting ─────────────────────────────────────────────────────────

let clkTck = 0;
function ticksPerSecond(): number {
  if (!clkTck) {
    try { clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { clkTck = 100; }
  }
  return clkTck;
}

/** User + system CPU time of a process (all its threads), in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3, utime field 14, stime field 15 (1-based).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** Resident set size now and at its peak (VmHWM), in MiB, from /proc/<pid>/status. */
export function memMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

export const hasProc = () => existsSync('/proc/self/stat');

// ── HTTP load ────────────────────────────────────────────────────────────────

export interface Timed {
  status: number;
  /** ms from send to the status line, to the first body byte, to the end. */
  head: number;
  firstByte: number;
  end: number;
  /** ms from send at which each marked SSE frame arrived (streams only). */
  marks: number[];
  body: string;
}

/**
 * One request on a keep-alive agent. With `mark`, the body is split into SSE frames as it
 * arrives and the arrival time of each frame `mark` accepts is recorded.
 */
export function request(agent: http.Agent, method: string, url: string, body?: string, mark?: (frame: string) => boolean, keepBody = true): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, {
      method,
      agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const head = performance.now() - t0;
      let firstByte = 0;
      let text = '';
      let pending = '';
      const marks: number[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now() - t0;
        if (!firstByte) firstByte = now;
        if (keepBody) text += chunk;
        if (mark) {
          pending += chunk;
          let i = pending.indexOf('\n\n');
          let start = 0;
          for (; i >= 0; i = pending.indexOf('\n\n', start)) {
            if (mark(pending.slice(start, i))) marks.push(now);
            start = i + 2;
          }
          pending = pending.slice(start);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, head, firstByte, end: performance.now() - t0, marks, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface LoadResult {
  count: number;
  errors: number;
  elapsedMs: number;
  latencies: number[];
  results: Timed[];
}

export interface LoadOptions {
  concurrency: number;
  /** Stop after this many requests in all... */
  maxRequests: number;
  /** ...or after this long, whichever comes first. */
  maxMs: number;
  method?: string;
  url: string;
  body: (i: number) => string | undefined;
  mark?: (frame: string) => boolean;
  keepResults?: boolean;
}

/** `concurrency` clients, each sending its next request as soon as the previous one ended. */
export async function load(opts: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  const results: Timed[] = [];
  let started = 0;
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + opts.maxMs;
  async function client(): Promise<void> {
    while (started < opts.maxRequests && performance.now() < deadline) {
      const i = started++;
      try {
        const r = await request(agent, opts.method ?? 'POST', opts.url, opts.body(i), opts.mark, opts.keepResults ?? false);
        if (r.status !== 200) errors++;
        latencies.push(r.end);
        if (opts.keepResults) results.push(r);
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, client));
  const elapsedMs = performance.now() - t0;
  agent.destroy();
  return { count: latencies.length, errors, elapsedMs, latencies, results };
}

export interface RateOptions {
  /** Requests per second, sent on a fixed schedule whatever the answers do (open loop). */
  rate: number;
  durationMs: number;
  url: string;
  body: () => string;
}

/**
 * A pass at the rate, its figures dropped, before one that is measured. The first seconds at a
 * new rate stalled this VM as a whole, at the same point of every first pass (about 2.2 s in; a
 * shell sampling /proc got no CPU for 460 ms, so every process paused, the minimal proxy's and the
 * load generator's too), and never in a second pass in the same processes: what that measured was
 * the machine, not the process under test (docs/benchmarks.md, "Garbage collection at 2,000 req/s").
 */
export async function warmAtRate(opts: Omit<RateOptions, 'durationMs'>): Promise<void> {
  await loadAtRate({ ...opts, durationMs: 6_000 });
}

/**
 * A constant arrival rate, as TensorZero's and most gateway benchmarks load (k6/vegeta): request
 * i goes out at i/rate (paced by a 1 ms timer, so a few leave together) whether or not earlier
 * ones were answered (open loop: a slow answer cannot hold back the next sends). Latency is from
 * send to the end of the answer.
 */
export async function loadAtRate(opts: RateOptions): Promise<{ count: number; errors: number; latencies: number[]; achievedRate: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const total = Math.round((opts.rate * opts.durationMs) / 1000);
  const latencies: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  let errors = 0;
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now() - t0;
    for (const due = Math.min(total, Math.floor((now * opts.rate) / 1000) + 1); sent < due; sent++) {
      inFlight.push(request(agent, 'POST', opts.url, opts.body(), undefined, false).then(
        (r) => { if (r.status === 200) latencies.push(r.end); else errors++; },
        () => { errors++; },
      ));
    }
    await sleep(1);
  }
  await Promise.all(inFlight);
  const elapsed = performance.now() - t0;
  agent.destroy();
  return { count: latencies.length, errors, latencies, achievedRate: (latencies.length / elapsed) * 1000 };
}

/** What warming a process up to its steady state took. */
export interface WarmUp {
  requests: number;
  cpuMs: number;
  /** CPU per request (ms) of each batch, first to last. */
  perBatch: number[];
}

/**
 * Sends batches of requests until the process's CPU per request stops falling: V8 compiles the hot
 * code in tiers on background threads of the same process, so a fresh server's first thousands of
 * requests cost two to three times what it costs once warm, and a figure taken then measures the
 * JIT, not the request. Steady: a batch within 10% of the one before it (at least 3 batches, at
 * most `maxBatches`).
 */
export async function warmUp(pid: number, opts: Omit<LoadOptions, 'maxRequests' | 'maxMs' | 'concurrency'> & { batch?: number; maxBatches?: number; concurrency?: number }): Promise<WarmUp> {
  const batch = opts.batch ?? 2000;
  const perBatch: number[] = [];
  let requests = 0;
  let cpu = 0;
  for (let i = 0; i < (opts.maxBatches ?? 10); i++) {
    const c0 = cpuMs(pid);
    const r = await load({ ...opts, concurrency: opts.concurrency ?? 16, maxRequests: batch, maxMs: 60_000 });
    const spent = cpuMs(pid) - c0;
    if (r.errors) throw new Error(`warm-up: ${r.errors} of ${r.count + r.errors} requests failed (${opts.url})`);
    requests += r.count;
    cpu += spent;
    perBatch.push(spent / r.count);
    const [prev, last] = perBatch.slice(-2) as [number, number];
    if (perBatch.length >= 3 && Math.abs(last - prev) <= 0.1 * prev) break;
  }
  return { requests, cpuMs: cpu, perBatch };
}

// ── statistics and output ────────────────────────────────────────────────────

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
export const median = (xs: number[]) => quantile(xs, 0.5);

export const f = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

export function table(head: string[], rows: Array<Array<string | number>>): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function machine(): string {
  const c = cpus();
  // The load average says how busy the machine was with other work when the figures were taken.
  return `Node ${process.version}, ${c[0]?.model.trim() ?? 'unknown CPU'}, ${c.length} cores, load average ${loadavg()[0]!.toFixed(1)} at the start`;
}

/** A measured section of docs/benchmarks.md: its heading and body (markdown). */
export interface Section { heading: string; body: string; summary: string[] }

/** Replaces (or appends) each section, by its `## ` heading, in docs/benchmarks.md. */
export function writeSections(sections: Section[]): string {
  const file = join(ROOT, 'docs', 'benchmarks.md');
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  for (const s of sections) {
    const text = `${s.heading}\n\n${s.body.trim()}\n`;
    const start = doc.indexOf(`${s.heading}\n`);
    if (start < 0) {
      doc = `${doc.replace(/\n*$/, '')}\n\n${text}`;
    } else {
      const after = doc.indexOf('\n## ', start + s.heading.length);
      doc = doc.slice(0, start) + text + (after < 0 ? '' : `\n${doc.slice(after + 1)}`);
    }
  }
  writeFileSync(file, doc.replace(/\n*$/, '\n'));
  return file;
}

/** True when the module is the script node was started with (not imported by bench/run.ts). */
export const isMain = (metaUrl: string) => fileURLToPath(metaUrl) === process.argv[1];

/**
 * A figure beside its target, as `npm run bench` gathers them at the end (the lines that start
 * with `target:`, from every bench).
 */
export function target(what: string, value: number, op: '<=' | '>=', limit: number, unit = ''): string {
  const met = op === '<=' ? value <= limit : value >= limit;
  return `target: ${what}: ${f(value, 2)}${unit}, target ${op} ${limit}${unit}: ${met ? 'met' : 'MISSED'}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
