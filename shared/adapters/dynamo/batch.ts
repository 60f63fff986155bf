// DynamoDB operations every store uses: batch reads and writes in parallel chunks (each retried
// until DynamoDB processed all of it: Unprocessed* come back under load and size limits), a whole
// partition's deletion, and conditional writes whose failed condition is an answer, not an error.
import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Key } from './layout.ts';
import { PART_BYTES } from './blob.ts';

export type Item = Record<string, any>;

/** Per BatchGetItem call: 100 keys (DynamoDB's limit); dynalite answers ~1.4 MB per call (DynamoDB 16 MB): stay under both. */
const BATCH_GET_KEYS = 100;
const BATCH_GET_BYTES = 1_000_000;
/** Per BatchWriteItem call: 25 requests (DynamoDB's limit), and under its 16 MB. */
const BATCH_WRITE_ITEMS = 25;
const BATCH_WRITE_BYTES = 4_000_000;

const backoff = (attempt: number) => sleep(Math.min(1000, 20 * 2 ** attempt));

/** Splits into chunks of at most `maxCount` items and about `maxBytes` (by `size`). */
export function chunk<T>(xs: readonly T[], maxCount: number, maxBytes = Infinity, size: (x: T) => number = () => 0): T[][] {
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

/**
 * The items at these keys (strongly consistent; missing ones left out), read in parallel chunks.
 * `bigKey` marks keys whose items may be a whole part, so fewer go in one call.
 */
export async function batchGet(doc: DynamoDBDocumentClient, table: string, keys: readonly Key[], bigKey: (k: Key) => boolean = () => false): Promise<Item[]> {
  const unique = [...new Map(keys.map((k) => [`${k.pk}\n${k.sk}`, k])).values()];
  const chunks = chunk(unique, BATCH_GET_KEYS, BATCH_GET_BYTES, (k) => (bigKey(k) ? PART_BYTES : 4_000));
  const results = await Promise.all(chunks.map(async (ks) => {
    const got: Item[] = [];
    let pending: Item[] = ks;
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

/** BatchWriteItem of put and delete requests, in parallel chunks. */
async function batchWrite(doc: DynamoDBDocumentClient, table: string, requests: readonly Item[]): Promise<void> {
  const size = (r: Item) => (r.PutRequest?.Item?.blob?.length ?? 0) + 100;
  await Promise.all(chunk(requests, BATCH_WRITE_ITEMS, BATCH_WRITE_BYTES, size).map(async (reqs) => {
    let pending: Item[] = reqs;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as any } }));
      pending = out.UnprocessedItems?.[table] ?? [];
    }
  }));
}

export const putItems = (doc: DynamoDBDocumentClient, table: string, items: readonly Item[]): Promise<void> =>
  batchWrite(doc, table, items.map((Item) => ({ PutRequest: { Item } })));

export const deleteKeys = (doc: DynamoDBDocumentClient, table: string, keys: readonly Key[]): Promise<void> =>
  batchWrite(doc, table, keys.map(({ pk, sk }) => ({ DeleteRequest: { Key: { pk, sk } } })));

/** Deletes every item of a partition, a Query page at a time. */
export async function deletePartition(doc: DynamoDBDocumentClient, table: string, pk: string): Promise<void> {
  for await (const page of paginateQuery({ client: doc }, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': pk },
    ProjectionExpression: 'pk, sk',
    ConsistentRead: true,
  })) await deleteKeys(doc, table, (page.Items ?? []) as Key[]);
}

/**
 * A conditional write's output, or null when its condition did not hold (a missing item, another
 * owner, a lost race: the stores' "not found" or "not yours"); any other error is thrown.
 */
export async function conditionalWrite<T>(write: Promise<T>): Promise<T | null> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return null;
    throw err;
  }
}
