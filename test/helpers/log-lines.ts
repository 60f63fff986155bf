// The gateway's log lines (shared/log.ts: JSON, WARN and ERROR on stderr) and metric lines
// (shared/metrics.ts: EMF JSON on stdout), as written by gateways running in the test process.
// They are kept here rather than printed (a passing run shows no log noise); tests read them, and
// an ERROR line a test did not declare (expectErrorLogs) fails that test (setup.ts).

export interface LogLine { level: string; message: string; [field: string]: unknown }
export interface MetricLine { _aws: { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> }; [field: string]: unknown }

const kept: Array<LogLine | MetricLine> = [];
let expected: RegExp[] = [];

/** Wraps stdout and stderr once per test process: JSON log and metric lines are kept, the rest passes. */
export function captureLogs(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : null;
      if (text === null || !(text.startsWith('{"level":') || text.startsWith('{"_aws":'))) return write(chunk, ...rest);
      for (const line of text.split('\n')) if (line) kept.push(JSON.parse(line));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof stream.write;
  }
}

/** The log lines written while `fn` ran. */
export async function logLines(fn: () => Promise<unknown>): Promise<LogLine[]> {
  const from = kept.length;
  await fn();
  return kept.slice(from).filter((l): l is LogLine => 'level' in l);
}

/** The metric (EMF) lines written while `fn` ran. */
export async function metricLines(fn: () => Promise<unknown>): Promise<MetricLine[]> {
  const from = kept.length;
  await fn();
  return kept.slice(from).filter((l): l is MetricLine => '_aws' in l);
}

/** This test is about failures that log errors: ERROR lines whose message or error matches one of these are its subject. */
export function expectErrorLogs(...patterns: RegExp[]): void {
  expected.push(...patterns);
}

/** Where the current test began in the kept lines. */
let testStart = 0;
export function startTest(): void {
  testStart = kept.length;
  expected = [];
}

/** ERROR lines since the test began that no expectErrorLogs pattern claims. */
export function unexpectedErrors(): string[] {
  return kept.slice(testStart)
    .filter((l): l is LogLine => 'level' in l && (l.level === 'ERROR' || l.level === 'CRITICAL'))
    .map((l) => JSON.stringify(l))
    .filter((text) => !expected.some((p) => p.test(text)));
}
