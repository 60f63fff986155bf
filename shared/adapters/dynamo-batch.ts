import { BatchGetCommand, BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// Batch reads and writes shared by the stores: parallel chunks, each retried until DynamoDB has
// processed all of it (Unprocessed* come back under load and size limits).

type Item = Record<string, any>;
export type Key = { pk: string; sk: string };

export const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));

/** Splits into chunks of at most `maxCount` items and about `maxBytes` (by `size`). */
export function chunk<T>(xs: T[], maxCount: number, maxBytes = Infinity, size: (x: T) => number = () => 0): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const x of xs) {
    const s = size(x);
    if (cur.length > 0 && (cur.length >= maxCount || bytes + s > maxBytes)) { out.push(cur); cur = []; bytes = 0; }
    cur.push(x);
    bytes += s;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** BatchGetItem of each chunk in parallel (strongly consistent), UnprocessedKeys retried. */
export async function batchGetChunks(doc: DynamoDBDocumentClient, table: string, chunks: Key[][]): Promise<Item[]> {
  const results = await Promise.all(chunks.map(async (keys) => {
    const got: Item[] = [];
    let pending: Item[] = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const out = await doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
      got.push(...(out.Responses?.[table] ?? []));
      pending = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
    return got;
  }));
  return results.flat();
}

/** BatchWriteItem of each chunk (<= 25 requests) in parallel, UnprocessedItems retried. */
export async function batchWriteChunks(doc: DynamoDBDocumentClient, table: string, chunks: Item[][]): Promise<void> {
  await Promise.all(chunks.map(async (requests) => {
    let pending: Item[] = requests;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as any } }));
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  }));
}

/** Deletes every item of a partition, a Query page at a time. */
export async function deletePartition(doc: DynamoDBDocumentClient, table: string, pk: string): Promise<void> {
  let startKey: Item | undefined;
  do {
    const page = await doc.send(new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
      ExclusiveStartKey: startKey,
    }));
    startKey = page.LastEvaluatedKey;
    const keys = (page.Items ?? []) as Key[];
    await batchWriteChunks(doc, table, chunk(keys.map(({ pk: p, sk }) => ({ DeleteRequest: { Key: { pk: p, sk } } })), 25));
  } while (startKey);
}
