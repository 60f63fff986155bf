// ConversationStore on the responses table (tables.ts), beside the stored responses. Every item
// of a conversation is in its partition (pk = the conversation id, `conv_…`):
//
//   sk 'c'                   meta: owner, created_at (s), metadata, next_seq (the last sequence
//                            number handed out; appends reserve theirs with an atomic ADD)
//   sk 'i#<10-digit seq>'    one conversation item: item_id and its gzipped JSON, inline (`blob`)
//                            or, when large, in `parts` part items
//   sk 'b#<seq>#<4-digit n>' the part items of a large item
//   sk 'x#<item id>'         the id index: seq, parts and owner, so an item is found by its id
//
// Sort keys order as 'b#' < 'c' < 'i#' < 'x#': the meta item and every item in order are one
// Query (`sk BETWEEN 'c' AND 'i#9999999999'`), never the index or the parts.
//
// Appends: one UpdateItem (ADD next_seq n, conditional on the owner) reserves n consecutive
// sequence numbers, then the items are written. Concurrent appends thus get disjoint ranges and
// a total order; a reader may briefly see a later range before an earlier one is written.
// Conversations do not expire (no TTL), as OpenAI's: they live until deleted.
import { batchGetChunks, batchWriteChunks, chunk, deletePartition } from './dynamo-batch.ts';
import { conditionalWrite } from './dynamo-conditional.ts';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import {
  DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { ConversationStore, ItemPage, ItemPageQuery, StoredConversation } from '../ports.ts';
import type { InputItem } from '../protocol/types.ts';

const META_SK = 'c';
const SEQ_DIGITS = 10;
const FIRST_ITEM_SK = `i#${'0'.repeat(SEQ_DIGITS)}`;
const LAST_ITEM_SK = `i#${'9'.repeat(SEQ_DIGITS)}`;
/** Largest item payload kept inline, and the size of each part of a larger one (item limit: 400 KB). */
const PART_BYTES = 350_000;
const BATCH_GET_KEYS = 100;
const BATCH_WRITE_ITEMS = 25;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

type Item = Record<string, any>;
type Key = { pk: string; sk: string };

const itemSk = (seq: number) => `i#${String(seq).padStart(SEQ_DIGITS, '0')}`;
const indexSk = (itemId: string) => `x#${itemId}`;
const partSk = (seq: number, n: number) => `b#${String(seq).padStart(SEQ_DIGITS, '0')}#${String(n).padStart(4, '0')}`;
const partKeys = (id: string, seq: number, parts: number): Key[] =>
  Array.from({ length: parts }, (_, i) => ({ pk: id, sk: partSk(seq, i + 1) }));

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
        Item: { pk: conv.id, sk: META_SK, owner: conv.owner, created_at: conv.createdAt, metadata: conv.metadata, next_seq: items.length },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
    } catch (err) {
      await this.deleteKeys(written).catch(() => {});
      throw err;
    }
  }

  async get(id: string, owner: string): Promise<StoredConversation | null> {
    return this.metaOf(await this.getItemAt(id, META_SK), owner);
  }

  async updateMetadata(id: string, owner: string, metadata: Record<string, string>): Promise<StoredConversation | null> {
    const out = await conditionalWrite(this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { pk: id, sk: META_SK },
      UpdateExpression: 'SET metadata = :metadata',
      ...ownedBy(owner, { ':metadata': metadata }),
      ReturnValues: 'ALL_NEW',
    })));
    return out && this.metaOf(out.Attributes, owner);
  }

  async delete(id: string, owner: string): Promise<boolean> {
    // Meta first: once it is gone the conversation reads as missing, whatever happens to the items.
    const deleted = await conditionalWrite(this.doc.send(new DeleteCommand({
      TableName: this.tableName,
      Key: { pk: id, sk: META_SK },
      ...ownedBy(owner),
    })));
    if (!deleted) return false;
    await this.deletePartition(id).catch(() => {}); // best effort: unreachable without the meta item
    return true;
  }

  // ── items ────────────────────────────────────────────────────────────────

  async append(id: string, owner: string, items: InputItem[]): Promise<boolean> {
    if (items.length === 0) return (await this.get(id, owner)) !== null;
    const out = await conditionalWrite(this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { pk: id, sk: META_SK },
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
    let startKey: Item | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :meta AND :last',
        ExpressionAttributeValues: { ':pk': id, ':meta': META_SK, ':last': LAST_ITEM_SK },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }));
      startKey = page.LastEvaluatedKey;
      for (const row of page.Items ?? []) {
        if (row.sk === META_SK) conversation = this.metaOf(row, owner);
        else rows.push(row);
      }
      if (!conversation) return null; // the meta item sorts first: no reason to read on
    } while (startKey);
    return { conversation, items: await this.decodeRows(id, rows) };
  }

  async listItems(id: string, owner: string, q: ItemPageQuery): Promise<ItemPage | 'bad_cursor' | null> {
    const [meta, cursor] = await Promise.all([
      this.getItemAt(id, META_SK),
      q.after !== undefined ? this.getItemAt(id, indexSk(q.after)) : undefined,
    ]);
    if (!this.metaOf(meta, owner)) return null;
    if (q.after !== undefined && !cursor) return 'bad_cursor';
    const afterSeq = cursor ? Number(cursor.seq) : undefined;
    const asc = q.order === 'asc';
    const lo = asc && afterSeq !== undefined ? itemSk(afterSeq + 1) : FIRST_ITEM_SK;
    const hi = !asc && afterSeq !== undefined ? itemSk(Math.max(0, afterSeq - 1)) : LAST_ITEM_SK;
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
    const rows = await this.batchGet([...new Set(itemIds)].map((itemId) => ({ pk: id, sk: indexSk(itemId) })));
    return new Set(rows.map((row) => String(row.sk).slice(2)));
  }

  async getItem(id: string, owner: string, itemId: string): Promise<InputItem | null> {
    const [meta, index] = await Promise.all([this.getItemAt(id, META_SK), this.getItemAt(id, indexSk(itemId))]);
    if (!this.metaOf(meta, owner) || !index) return null;
    const row = await this.getItemAt(id, itemSk(Number(index.seq)));
    if (!row) return null; // deleted meanwhile
    return (await this.decodeRows(id, [row]))[0] ?? null;
  }

  async deleteItem(id: string, owner: string, itemId: string): Promise<StoredConversation | null> {
    // The index item carries the owner: one conditional delete checks the owner and the item.
    const removeIndex = conditionalWrite(this.doc.send(new DeleteCommand({
      TableName: this.tableName,
      Key: { pk: id, sk: indexSk(itemId) },
      ...ownedBy(owner),
      ReturnValues: 'ALL_OLD',
    })));
    const [meta, removed] = await Promise.all([this.getItemAt(id, META_SK), removeIndex]);
    const index = removed?.Attributes;
    const conversation = this.metaOf(meta, owner);
    if (!index) return null;
    const seq = Number(index.seq);
    await this.deleteKeys([{ pk: id, sk: itemSk(seq) }, ...partKeys(id, seq, Number(index.parts ?? 0))]);
    return conversation;
  }

  // ── internals ────────────────────────────────────────────────────────────

  private metaOf(row: Item | undefined, owner: string): StoredConversation | null {
    if (!row || row.owner !== owner) return null;
    return { id: row.pk, owner: row.owner, createdAt: Number(row.created_at), metadata: (row.metadata ?? {}) as Record<string, string> };
  }

  private async getItemAt(id: string, sk: string): Promise<Item | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: id, sk }, ConsistentRead: true }));
    return out.Item;
  }

  /** Writes items with sequence numbers from `first` on: the items, their parts and their index entries. */
  private async writeItems(id: string, owner: string, items: InputItem[], first: number): Promise<Key[]> {
    const partRows: Item[] = [];
    const rows: Item[] = [];
    await Promise.all(items.map(async (item, i) => {
      const seq = first + i;
      const itemId = String(item.id);
      const blob = await gzipAsync(Buffer.from(JSON.stringify(item)));
      const parts = blob.length <= PART_BYTES ? 0 : Math.ceil(blob.length / PART_BYTES);
      rows.push(parts === 0
        ? { pk: id, sk: itemSk(seq), item_id: itemId, blob }
        : { pk: id, sk: itemSk(seq), item_id: itemId, parts });
      partKeys(id, seq, parts).forEach((key, n) => partRows.push({ ...key, blob: blob.subarray(n * PART_BYTES, (n + 1) * PART_BYTES) }));
      rows.push({ pk: id, sk: indexSk(itemId), seq, parts, owner });
    }));
    // Parts before the items that point at them: a reader never finds an item without its parts.
    if (partRows.length) await this.batchWrite(partRows.map((Item) => ({ PutRequest: { Item } })));
    await this.batchWrite(rows.map((Item) => ({ PutRequest: { Item } })));
    return [...partRows, ...rows].map(({ pk, sk }) => ({ pk, sk }));
  }

  /** Item rows (in order) as items; the parts of large ones are read in one batch. */
  private async decodeRows(id: string, rows: Item[]): Promise<InputItem[]> {
    const partRows = await this.batchGet(rows.flatMap((row) => (row.parts ? partKeys(id, seqOf(row.sk), Number(row.parts)) : [])));
    const parts = new Map(partRows.map((row) => [row.sk as string, row.blob as Uint8Array]));
    return Promise.all(rows.map(async (row) => {
      const blob = row.parts
        ? Buffer.concat(partKeys(id, seqOf(row.sk), Number(row.parts)).map((k) => {
          const part = parts.get(k.sk);
          if (!part) throw new Error(`conversation ${id}: part ${k.sk} missing`);
          return part;
        }))
        : row.blob as Uint8Array;
      return JSON.parse((await gunzipAsync(blob)).toString('utf8')) as InputItem;
    }));
  }

  private batchGet(keys: Key[]): Promise<Item[]> {
    return batchGetChunks(this.doc, this.tableName, chunk(keys, BATCH_GET_KEYS));
  }

  private batchWrite(requests: Item[]): Promise<void> {
    return batchWriteChunks(this.doc, this.tableName, chunk(requests, BATCH_WRITE_ITEMS));
  }

  private deleteKeys(keys: Key[]): Promise<void> {
    return this.batchWrite(keys.map(({ pk, sk }) => ({ DeleteRequest: { Key: { pk, sk } } })));
  }

  private deletePartition(id: string): Promise<void> {
    return deletePartition(this.doc, this.tableName, id);
  }
}


const seqOf = (sk: string) => Number(sk.slice(2));
