// The gateway's log lines (shared/log.ts writes JSON lines to stdout, WARN and ERROR to stderr),
// captured while `fn` runs.
import { vi } from 'vitest';

export interface LogLine { level: string; message: string; [field: string]: unknown }

export async function logLines(fn: () => Promise<unknown>): Promise<LogLine[]> {
  const written: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => { written.push(String(chunk)); return true; }));
  try {
    await fn();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written.flatMap((w) => w.split('\n')).filter((l) => l.startsWith('{"level"')).map((l) => JSON.parse(l) as LogLine);
}
