// EventLog on the table (layout.ts: `resp_…#ev` partitions), apart from the record so reading a
// record never reads its events. One item per appended batch, keyed by the batch's last sequence
// number: the items holding events after N are exactly those whose key is greater than N's.
import { PutCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventLog } from '../../ports.ts';
import type { StreamEvent } from '../../protocol/types.ts';
import type { Item } from './batch.ts';
import { pack, unpack } from './blob.ts';
import { eventLogKeys } from './layout.ts';

export class DynamoEventLog implements EventLog {
  /** Readers waiting for this process's next announced batch of a log, by response id. */
  private readonly waiting = new Map<string, Set<(events: readonly StreamEvent[] | null) => void>>();

  /** `ttlSeconds`: the responses' retention (the log goes with its record); null keeps it. */
  constructor(private readonly doc: DynamoDBDocumentClient, private readonly tableName: string, private readonly ttlSeconds: number | null) {}

  async append(id: string, events: readonly StreamEvent[], createdAt: number): Promise<void> {
    if (events.length === 0) return;
    const item: Item = { pk: eventLogKeys.pk(id), sk: eventLogKeys.sk(events.at(-1)!.sequence_number), blob: await pack(events) };
    if (this.ttlSeconds !== null) item.expires_at = createdAt + this.ttlSeconds;
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  announce(id: string, events: readonly StreamEvent[]): void {
    for (const wake of this.waiting.get(id) ?? []) wake(events);
  }

  announced(id: string, ms: number, signal?: AbortSignal): Promise<readonly StreamEvent[] | null> {
    return new Promise((resolve) => {
      const wake = (events: readonly StreamEvent[] | null) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.waiting.get(id);
        set?.delete(wake);
        if (set?.size === 0) this.waiting.delete(id);
        resolve(events);
      };
      const onAbort = () => wake(null);
      const timer = setTimeout(onAbort, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (!this.waiting.has(id)) this.waiting.set(id, new Set());
      this.waiting.get(id)!.add(wake);
    });
  }

  async read(id: string, afterSeq: number): Promise<StreamEvent[]> {
    const out: StreamEvent[] = [];
    for await (const page of paginateQuery({ client: this.doc }, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk > :after',
      ExpressionAttributeValues: { ':pk': eventLogKeys.pk(id), ':after': eventLogKeys.sk(afterSeq) },
      ConsistentRead: true,
    })) {
      for (const item of page.Items ?? []) {
        for (const ev of await unpack<StreamEvent[]>(item.blob)) if (ev.sequence_number > afterSeq) out.push(ev);
      }
    }
    return out;
  }
}
