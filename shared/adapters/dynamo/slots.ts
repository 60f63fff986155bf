// SlotStore on the table (layout.ts: `slot#<endpoint>|<model>` partitions, one item per slot).
// Every write is conditional, so two processes can never both hold slot n: a take succeeds only
// on a missing or expired item, renew and release only for the holder that wrote it.
// `expires_at` lets DynamoDB's TTL delete abandoned items; expiry itself is read from
// `lease_until` (TTL deletes late, and dynalite never).
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SlotStore } from '../../ports.ts';
import { conditionalWrite } from './batch.ts';
import { slotKeys } from './layout.ts';

/** Well after the lease: an item TTL deletes is one nobody can be renewing. */
const ttlOf = (untilMs: number) => Math.ceil(untilMs / 1000) + 3600;
const NAMES = { '#h': 'holder', '#u': 'lease_until' };

/** True when the write was made, false when its condition did not hold. */
const conditional = async (write: Promise<unknown>): Promise<boolean> => (await conditionalWrite(write)) !== null;

export class DynamoSlotStore implements SlotStore {
  constructor(private readonly doc: DynamoDBDocumentClient, private readonly tableName: string) {}

  take(key: string, slot: number, holder: string, untilMs: number, nowMs: number): Promise<boolean> {
    return conditional(this.doc.send(new PutCommand({
      TableName: this.tableName,
      Item: { ...slotKeys.slot(key, slot), holder, lease_until: untilMs, expires_at: ttlOf(untilMs) },
      ConditionExpression: 'attribute_not_exists(pk) OR #u < :now',
      ExpressionAttributeNames: { '#u': 'lease_until' },
      ExpressionAttributeValues: { ':now': nowMs },
    })));
  }

  async held(key: string, nowMs: number): Promise<number[]> {
    // Consistent: a slot freed a moment ago must be seen free.
    const out = await this.doc.send(new QueryCommand({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': slotKeys.pk(key) },
      ProjectionExpression: 'sk, #u',
      ExpressionAttributeNames: { '#u': 'lease_until' },
      ConsistentRead: true,
    }));
    return (out.Items ?? []).filter((it) => Number(it.lease_until) >= nowMs).map((it) => Number(it.sk));
  }

  renew(key: string, slot: number, holder: string, untilMs: number): Promise<boolean> {
    return conditional(this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: slotKeys.slot(key, slot),
      UpdateExpression: 'SET #u = :u, expires_at = :e',
      ConditionExpression: '#h = :h',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':u': untilMs, ':e': ttlOf(untilMs), ':h': holder },
    })));
  }

  async release(key: string, slot: number, holder: string): Promise<void> {
    await conditional(this.doc.send(new DeleteCommand({
      TableName: this.tableName,
      Key: slotKeys.slot(key, slot),
      ConditionExpression: '#h = :h',
      ExpressionAttributeNames: { '#h': 'holder' },
      ExpressionAttributeValues: { ':h': holder },
    })));
  }
}
