// ConversationStore on the table (layout.ts: `conv_…` partitions, beside the stored responses).
// Appends: one UpdateItem (ADD next_seq n, conditional on the owner) reserves n consecutive
// sequence numbers, then the items are written. Concurrent appends thus get disjoint ranges and
// a total order; a reader may briefly see a later range before an earlier one is written.
// Conversations do not expire (no TTL), as OpenAI's: they live until deleted.
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConversationStore, ItemPage, ItemPageQuery, StoredConversation } from '../../ports.ts';
import type { InputItem } from '../../protocol/types.ts';
import { batchGet, conditionalWrite, deleteKeys, deletePartition, putItems, type Item } from './batch.ts';
import { joinParts, pack, PART_BYTES, partCount, partOf, unpack } from './blob.ts';
import { conversationKeys as keys, type Key } from './layout.ts';

const partKeys = (id: string, seq: number, parts: number): Key[] => Array.from({ length: parts }, (_, i) => keys.part(id, seq, i + 1));

/** The condition of every change to a conversation (its meta item, its id index): `owner` owns it. */
const ownedBy = (owner: string, values: Item = {}) => ({
  ConditionExpression: '#owner = :owner',
  ExpressionAttributeNames: { '#owner': 'owner' },
  ExpressionAttributeValues: { ...values, ':owner': owner },
});

export class DynamoConversationStore implements ConversationStore {
  constructor(private readonly doc: DynamoDBDocumentClient, private readonly tableName: string) {}

  // ── conversations ────────────────────────────────────────────────────────

  async create(conv: StoredConversation, items: InputItem[]): Promise<void> {
    const written = await this.writeItems(conv.id, conv.owner, items, 1);
    try {
      await this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.meta(conv.id), owner: conv.owner, created_at: conv.createdAt, metadata_json: JSON.stringify(conv.metadata), next_seq: items.length },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
    } catch (err) {
      await deleteKeys(this.doc, this.tableName, written).catch(() => {});
      throw err;
    }
  }

  async get(id: string, owner: string): Promise<StoredConversation | null> {
    return this.metaOf(await this.getItemAt(keys.meta(id)), owner);
  }

  async updateMetadata(id: string, owner: string, metadata: Record<string, string>): Promise<StoredConversation | null> {
    const out = await conditionalWrite(this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keys.meta(id),
      UpdateExpression: 'SET metadata_json = :metadata REMOVE metadata',
      ...ownedBy(owner, { ':metadata': JSON.stringify(metadata) }),
      ReturnValues: 'ALL_NEW',
    })));
    return out && this.metaOf(out.Attributes, owner);
  }

  async delete(id: string, owner: string): Promise<boolean> {
    // Meta first: once it is gone the conversation reads as missing, whatever happens to the items.
    const deleted = await conditionalWrite(this.doc.send(new DeleteCommand({
      TableName: this.tableName,
      Key: keys.meta(id),
      ...ownedBy(owner),
    })));
    if (!deleted) return false;
    await deletePartition(this.doc, this.tableName, id).catch(() => {}); // best effort: unreachable without the meta item
    return true;
  }

  // ── items ────────────────────────────────────────────────────────────────

  async append(id: string, owner: string, items: InputItem[]): Promise<boolean> {
    if (items.length === 0) return (await this.get(id, owner)) !== null;
    const out = await conditionalWrite(this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: keys.meta(id),
      UpdateExpression: 'ADD next_seq :n',
      ...ownedBy(owner, { ':n': items.length }),
      ReturnValues: 'UPDATED_NEW',
    })));
    if (!out) return false;
    const last = Number(out.Attributes?.next_seq);
    await this.writeItems(id, owner, items, last - items.length + 1);
    return true;
  }

  async load(id: string, owner: string): Promise<{ conversation: StoredConversation; items: InputItem[] } | null> {
    let conversation: StoredConversation | null = null;
    const rows: Item[] = [];
    for await (const page of paginateQuery({ client: this.doc }, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :meta AND :last',
      ExpressionAttributeValues: { ':pk': id, ':meta': keys.meta(id).sk, ':last': keys.lastItemSk },
      ConsistentRead: true,
    })) {
      for (const row of page.Items ?? []) {
        if (row.sk === keys.meta(id).sk) conversation = this.metaOf(row, owner);
        else rows.push(row);
      }
      if (!conversation) return null; // the meta item sorts first: no reason to read on
    }
    return conversation && { conversation, items: await this.decodeRows(id, rows) };
  }

  async listItems(id: string, owner: string, q: ItemPageQuery): Promise<ItemPage | 'bad_cursor' | null> {
    const [meta, cursor] = await Promise.all([
      this.getItemAt(keys.meta(id)),
      q.after !== undefined ? this.getItemAt(keys.index(id, q.after)) : undefined,
    ]);
    if (!this.metaOf(meta, owner)) return null;
    if (q.after !== undefined && !cursor) return 'bad_cursor';
    const afterSeq = cursor ? Number(cursor.seq) : undefined;
    const asc = q.order === 'asc';
    const lo = asc && afterSeq !== undefined ? keys.item(id, afterSeq + 1).sk : keys.firstItemSk;
    const hi = !asc && afterSeq !== undefined ? keys.item(id, Math.max(0, afterSeq - 1)).sk : keys.lastItemSk;
    const rows: Item[] = [];
    let startKey: Item | undefined;
    do { // one more than asked for tells whether there are more
      const page = await this.doc.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': id, ':lo': lo, ':hi': hi },
        ScanIndexForward: asc,
        Limit: q.limit + 1 - rows.length,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }));
      startKey = page.LastEvaluatedKey;
      rows.push(...(page.Items ?? []));
    } while (startKey && rows.length <= q.limit);
    return { items: await this.decodeRows(id, rows.slice(0, q.limit)), hasMore: rows.length > q.limit };
  }

  async existingItemIds(id: string, itemIds: readonly string[]): Promise<Set<string>> {
    const rows = await batchGet(this.doc, this.tableName, itemIds.map((itemId) => keys.index(id, itemId)));
    return new Set(rows.map((row) => keys.itemIdOf(row.sk)));
  }

  async getItem(id: string, owner: string, itemId: string): Promise<InputItem | null> {
    const [meta, index] = await Promise.all([this.getItemAt(keys.meta(id)), this.getItemAt(keys.index(id, itemId))]);
    if (!this.metaOf(meta, owner) || !index) return null;
    const row = await this.getItemAt(keys.item(id, Number(index.seq)));
    if (!row) return null; // deleted meanwhile
    return (await this.decodeRows(id, [row]))[0] ?? null;
  }

  async deleteItem(id: string, owner: string, itemId: string): Promise<StoredConversation | null> {
    // The index item carries the owner: one conditional delete checks the owner and the item.
    const removeIndex = conditionalWrite(this.doc.send(new DeleteCommand({
      TableName: this.tableName,
      Key: keys.index(id, itemId),
      ...ownedBy(owner),
      ReturnValues: 'ALL_OLD',
    })));
    const [meta, removed] = await Promise.all([this.getItemAt(keys.meta(id)), removeIndex]);
    const index = removed?.Attributes;
    const conversation = this.metaOf(meta, owner);
    if (!index) return null;
    const seq = Number(index.seq);
    await deleteKeys(this.doc, this.tableName, [keys.item(id, seq), ...partKeys(id, seq, Number(index.parts ?? 0))]);
    return conversation;
  }

  // ── internals ────────────────────────────────────────────────────────────

  private metaOf(row: Item | undefined, owner: string): StoredConversation | null {
    if (!row || row.owner !== owner) return null;
    // Metadata as JSON text: its keys are the client's, and the SDK's marshalling treats a map with a
    // `constructor` key as a class instance (refused) and rebuilds maps by assignment (a `__proto__`
    // key lost). Items written before hold a map under `metadata`.
    const metadata = typeof row.metadata_json === 'string' ? JSON.parse(row.metadata_json) : row.metadata ?? {};
    return { id: row.pk, owner: row.owner, createdAt: Number(row.created_at), metadata: metadata as Record<string, string> };
  }

  private async getItemAt(key: Key): Promise<Item | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return out.Item;
  }

  /** Writes items with sequence numbers from `first` on: the items, their parts and their index entries. */
  private async writeItems(id: string, owner: string, items: InputItem[], first: number): Promise<Key[]> {
    const partRows: Item[] = [];
    const rows: Item[] = [];
    await Promise.all(items.map(async (item, i) => {
      const seq = first + i;
      const itemId = String(item.id);
      const blob = await pack(item);
      const parts = blob.length <= PART_BYTES ? 0 : partCount(blob);
      rows.push({ ...keys.item(id, seq), item_id: itemId, ...(parts === 0 ? { blob } : { parts }) });
      partKeys(id, seq, parts).forEach((key, n) => partRows.push({ ...key, blob: partOf(blob, n + 1) }));
      rows.push({ ...keys.index(id, itemId), seq, parts, owner });
    }));
    // Parts before the items that point at them: a reader never finds an item without its parts.
    if (partRows.length) await putItems(this.doc, this.tableName, partRows);
    await putItems(this.doc, this.tableName, rows);
    return [...partRows, ...rows].map(({ pk, sk }) => ({ pk, sk }));
  }

  /** Item rows (in order) as items; the parts of large ones are read in one batch. */
  private async decodeRows(id: string, rows: Item[]): Promise<InputItem[]> {
    const partsOf = (row: Item) => (row.parts ? partKeys(id, keys.seqOf(row.sk), Number(row.parts)) : []);
    const partRows = await batchGet(this.doc, this.tableName, rows.flatMap(partsOf));
    const parts = new Map(partRows.map((row) => [row.sk as string, row.blob as Uint8Array]));
    return Promise.all(rows.map((row) => unpack<InputItem>(row.parts
      ? joinParts(partsOf(row).map((k) => parts.get(k.sk)), `conversation ${id}`)
      : row.blob as Uint8Array)));
  }
}
