// Round-trip counting on a DynamoDB client (benchmarks and tests): every request the client sends,
// by command. A DynamoDBDocumentClient made from it shares its middleware stack. Counted per HTTP
// attempt, so SDK retries show up as round trips too.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface CallCounter {
  readonly count: number;
  byCommand: Record<string, number>;
  /** Each request's command and when it was sent and answered (performance.now()). */
  calls: Array<{ command: string; start: number; end: number }>;
  reset(): void;
}

/**
 * How many round trips of `calls` one after another came before `before` (performance.now()):
 * the longest chain of calls each sent after the previous was answered. Calls sent together
 * count once.
 */
export function sequentialBefore(calls: CallCounter['calls'], before: number): number {
  const done = calls.filter((c) => c.end <= before).sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  done.forEach((c, i) => {
    depth[i] = 1 + Math.max(0, ...done.slice(0, i).map((p, j) => (p.end <= c.start ? depth[j]! : 0)));
  });
  return Math.max(0, ...depth);
}

let counterSeq = 0;

export function countCalls(client: DynamoDBClient): CallCounter {
  let count = 0;
  const byCommand: Record<string, number> = {};
  const calls: CallCounter['calls'] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      count++;
      const name = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      byCommand[name] = (byCommand[name] ?? 0) + 1;
      const call = { command: name, start: performance.now(), end: Infinity };
      calls.push(call);
      try {
        return await next(args);
      } finally {
        call.end = performance.now();
      }
    },
    // Deserialize runs inside the retry loop: once per request on the wire.
    { step: 'deserialize', name: `countCalls${++counterSeq}` },
  );
  return {
    get count() { return count; },
    byCommand,
    calls,
    reset() {
      count = 0;
      calls.length = 0;
      for (const k of Object.keys(byCommand)) delete byCommand[k];
    },
  };
}
