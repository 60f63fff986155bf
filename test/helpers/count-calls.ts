// Round-trip counting on a DynamoDB client (benchmarks and tests): every request the client sends,
// by command. A DynamoDBDocumentClient made from it shares its middleware stack. Counted per HTTP
// attempt, so SDK retries show up as round trips too.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface CallCounter {
  readonly count: number;
  byCommand: Record<string, number>;
  reset(): void;
}

let counterSeq = 0;

export function countCalls(client: DynamoDBClient): CallCounter {
  let count = 0;
  const byCommand: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      count++;
      const name = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      byCommand[name] = (byCommand[name] ?? 0) + 1;
      return next(args);
    },
    // Deserialize runs inside the retry loop: once per request on the wire.
    { step: 'deserialize', name: `countCalls${++counterSeq}` },
  );
  return {
    get count() { return count; },
    byCommand,
    reset() {
      count = 0;
      for (const k of Object.keys(byCommand)) delete byCommand[k];
    },
  };
}
