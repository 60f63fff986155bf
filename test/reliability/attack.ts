// Helpers for the hostile-peer suites: a gateway's memory read from /proc while an attack runs,
// /health probed meanwhile, and a writer that sends a large body at the pace the peer reads it.
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { sleep } from './system.ts';

const MB = 1024 * 1024;

/** Resident memory of a process, in MB (VmRSS of /proc/<pid>/status). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export interface Watch {
  /** Largest RSS seen, in MB. */
  peakMb: number;
  /** Slowest /health answer, in ms (a probe with no answer counts as its time-out). */
  slowestHealthMs: number;
  /** Probes sent. */
  probes: number;
  stop(): Promise<void>;
}

/**
 * Samples the process's RSS every 50 ms and probes `/health` one after another while the attack
 * runs. `onLimit` is called when RSS grows past `abortAboveMb` over where it started, or a probe
 * goes unanswered for `abortSlowerThanMs`, so a build without the limits stops its attack before
 * it takes the machine's memory or the suite's time.
 */
export function watch(pid: number, baseUrl: string, opts: { abortAboveMb?: number; abortSlowerThanMs?: number; onLimit?: () => void } = {}): Watch {
  const start = rssMb(pid);
  const w: Watch = { peakMb: start, slowestHealthMs: 0, probes: 0, stop: async () => undefined };
  let running = true;
  const sampler = setInterval(() => {
    try {
      w.peakMb = Math.max(w.peakMb, rssMb(pid));
    } catch {
      return; // the process is gone
    }
    if (opts.abortAboveMb !== undefined && w.peakMb - start > opts.abortAboveMb) opts.onLimit?.();
  }, 50);
  const prober = (async () => {
    while (running) {
      const t0 = performance.now();
      const slow = opts.abortSlowerThanMs === undefined ? undefined : setTimeout(() => opts.onLimit?.(), opts.abortSlowerThanMs);
      try {
        const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(30_000) });
        await res.text();
      } catch {
        /* counted as slow as it was */
      }
      clearTimeout(slow);
      w.slowestHealthMs = Math.max(w.slowestHealthMs, performance.now() - t0);
      w.probes++;
      await sleep(100);
    }
  })();
  w.stop = async () => {
    running = false;
    clearInterval(sampler);
    await prober;
  };
  return w;
}

/**
 * Writes `total` bytes (`head`, then `fill` repeated, then `tail`) to `out` as fast as the peer
 * reads them, never buffering more than a chunk; stops when the peer goes away. Resolves with the
 * bytes the peer accepted.
 */
export async function pump(out: Writable, total: number, fill = 'a', head = '', tail = '', signal?: AbortSignal): Promise<number> {
  const chunk = Buffer.from(fill.repeat(Math.ceil((64 * 1024) / fill.length)));
  let sent = 0;
  let gone = false;
  out.once('close', () => { gone = true; });
  out.on('error', () => { gone = true; });
  signal?.addEventListener('abort', () => { gone = true; }, { once: true });
  const write = async (buf: Buffer) => {
    if (gone) return;
    sent += buf.length;
    if (!out.write(buf)) {
      await new Promise<void>((resolve) => {
        const done = () => { out.off('drain', done); out.off('close', done); resolve(); };
        out.once('drain', done);
        out.once('close', done);
      });
    }
  };
  await write(Buffer.from(head));
  const body = total - head.length - tail.length;
  for (let n = 0; n < body && !gone; n += chunk.length) await write(n + chunk.length <= body ? chunk : chunk.subarray(0, body - n));
  if (tail) await write(Buffer.from(tail));
  if (signal?.aborted) (out as Writable & { destroy(): void }).destroy();
  else if (!gone) out.end();
  return sent;
}

export const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;
