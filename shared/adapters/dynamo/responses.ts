// ResponseStore on the table (layout.ts: `resp_…` partitions). A record is a meta item and two
// gzipped blobs: the input (items, and a background request; written once) and the Response
// (replaced by every update), each inline in the meta item or in part items. Parts are written
// BEFORE the meta item that points at them, under a fresh generation, so a reader never mixes two.
// An ancestor ref is `id[|i<gen>.<n>][|o<gen>.<n>]`: enough to name every item of that ancestor
// by exact key, so getChain is one Query plus one (parallel, chunked) BatchGetItem.
import { randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock, NewStoredResponse, ResponseStore, StoredResponse, UpdateOptions } from '../../ports.ts';
import { systemClock } from '../../ports.ts';
import { isTerminalStatus, type InputItem, type ResponseObject, type ResponseStatus } from '../../protocol/types.ts';
import { batchGet, conditionalWrite, deleteKeys, deletePartition, putItems, type Item } from './batch.ts';
import { pack, partCount, partOf, unpack } from './blob.ts';
import { ACTIVE, ACTIVE_INDEX, eventLogKeys, responseKeys, type Key } from './layout.ts';
import {
  blobAttrs, blobOf, missingKeys, parseRef, partKeys, refOfMeta, type BlobPtr, type Kind, type Loaded, type Meta,
} from './response-parts.ts';

const newGen = () => randomBytes(4).toString('hex');

/**
 * A worker's claim (claim(), and update() with `claim`): the record is `queued`, or `in_progress`
 * under `lease` (a retry of that execution). Adds `:queued`, `:claimed` and `:lease` to `values`.
 */
function claimCondition(values: Record<string, unknown>, lease: string): string {
  Object.assign(values, { ':queued': 'queued', ':claimed': 'in_progress', ':lease': lease });
  // (AND binds tighter than OR: dynalite's parser is slow on nested parentheses.)
  return '#status = :queued OR #status = :claimed AND lease = :lease';
}

/**
 * Largest blob kept inside the meta item. Two inline blobs (input + response) stay under 200 KB,
 * leaving the rest of the 400 KB item to the ancestors list (~3000 refs of a chain).
 */
const INLINE_MAX = 100_000;
const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;

/** What the input blob holds (a bare item list in records written before requests were stored). */
type InputBlob = { input: InputItem[]; request?: StoredResponse['request'] } | InputItem[];

// The ref of a StoredResponse we returned, so create() can chain from it without a read.
// Non-enumerable: invisible to JSON, spread and deep equality.
const REF = Symbol('dynamo-store.ref');

export interface DynamoStoreOptions {
  /** Retention after created_at; null keeps records forever. Default 30 days. */
  ttlSeconds?: number | null;
  clock?: Clock;
}

export class DynamoResponseStore implements ResponseStore {
  private readonly ttlSeconds: number | null;
  private readonly clock: Clock;

  constructor(private readonly doc: DynamoDBDocumentClient, private readonly tableName: string, opts: DynamoStoreOptions = {}) {
    this.ttlSeconds = opts.ttlSeconds === undefined ? DEFAULT_TTL_SECONDS : opts.ttlSeconds;
    this.clock = opts.clock ?? systemClock;
  }

  async create(rec: NewStoredResponse, parent: StoredResponse | null): Promise<void> {
    const ancestors = parent ? [...parent.ancestors, await this.refOf(parent)] : [];
    const expiresAt = this.expiryOf(rec.response);
    const gen = newGen();
    const inBlob: InputBlob = rec.request ? { input: rec.input, request: rec.request } : { input: rec.input };
    const [inPtr, outPtr] = await Promise.all([this.writeBlob(rec.id, 'i', gen, inBlob, expiresAt), this.writeBlob(rec.id, 'o', gen, rec.response, expiresAt)]);
    const meta: Item = {
      ...responseKeys.meta(rec.id),
      owner: rec.owner,
      status: rec.response.status,
      created_at: rec.response.created_at,
      updated_at: rec.updatedAt,
      ancestors,
      ...blobAttrs('in', inPtr),
      ...blobAttrs('out', outPtr),
    };
    if (expiresAt !== null) meta.expires_at = expiresAt;
    if (rec.endpoint !== null) meta.endpoint = rec.endpoint;
    if (rec.lastSeq !== undefined) meta.last_seq = rec.lastSeq;
    if (!isTerminalStatus(rec.response.status)) meta.active = ACTIVE;
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: meta, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (err) {
      // Our fresh generation only; never the existing record's.
      await deleteKeys(this.doc, this.tableName, [...partKeys(rec.id, 'i', inPtr), ...partKeys(rec.id, 'o', outPtr)]).catch(() => {});
      throw err;
    }
  }

  /**
   * Conditional replacement of the response blob. `expectUpdatedAt` additionally requires the
   * heartbeat to be unchanged (the sweeper's guard: a live writer wins the race); `lease`
   * requires the worker's lease to still be the stored one (with `claim`, or the record queued).
   */
  async update(id: string, response: ResponseObject, opts: UpdateOptions): Promise<boolean> {
    const { from, endpoint, expectUpdatedAt } = opts;
    if (from.length === 0) return false;
    const ptr = await this.writeBlob(id, 'o', newGen(), response, this.expiryOf(response));
    const names: Record<string, string> = { '#status': 'status', '#updated': 'updated_at', '#active': 'active' };
    const values: Record<string, unknown> = { ':status': response.status, ':now': this.clock.nowMs() };
    const set = ['#status = :status', '#updated = :now'];
    const remove: string[] = [];
    if ('inline' in ptr) {
      set.push('out_blob = :blob');
      values[':blob'] = ptr.inline;
      remove.push('out_gen', 'out_parts');
    } else {
      set.push('out_gen = :gen', 'out_parts = :parts');
      Object.assign(values, { ':gen': ptr.gen, ':parts': ptr.parts });
      remove.push('out_blob');
    }
    if (isTerminalStatus(response.status)) remove.push('#active');
    else { set.push('#active = :active'); values[':active'] = ACTIVE; }
    if (endpoint !== undefined) {
      names['#endpoint'] = 'endpoint';
      if (endpoint === null) remove.push('#endpoint');
      else { set.push('#endpoint = :endpoint'); values[':endpoint'] = endpoint; }
    }
    if (opts.lastSeq !== undefined) { set.push('last_seq = :lastSeq'); values[':lastSeq'] = opts.lastSeq; }
    let condition: string;
    if (opts.lease !== undefined && opts.claim) {
      // The claim's condition instead of `from`, and its lease set.
      condition = claimCondition(values, opts.lease);
      set.push('lease = :lease');
    } else {
      const fromNames = from.map((s, i) => { values[`:from${i}`] = s; return `:from${i}`; });
      condition = `#status IN (${fromNames.join(', ')})`;
      if (expectUpdatedAt !== undefined) { condition += ' AND #updated = :seen'; values[':seen'] = expectUpdatedAt; }
      if (opts.lease !== undefined) { condition += ' AND lease = :lease'; values[':lease'] = opts.lease; }
    }
    const out = await conditionalWrite(this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: responseKeys.meta(id),
      UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'UPDATED_OLD',
    })));
    if (!out) {
      await deleteKeys(this.doc, this.tableName, partKeys(id, 'o', ptr)).catch(() => {});
      return false;
    }
    // The previous generation's parts are unreferenced now. Best effort: a reader that raced us
    // re-reads on missing parts, and TTL removes whatever a failed cleanup leaves.
    const old = out.Attributes;
    if (old?.out_gen && old.out_gen !== ('gen' in ptr ? ptr.gen : undefined)) {
      await deleteKeys(this.doc, this.tableName, partKeys(id, 'o', { gen: old.out_gen, parts: old.out_parts ?? 0 })).catch(() => {});
    }
    return true;
  }

  async delete(id: string, owner: string): Promise<boolean> {
    // Meta first: once it is gone the record reads as missing, whatever happens to the parts.
    const deleted = await conditionalWrite(this.doc.send(new DeleteCommand({
      TableName: this.tableName,
      Key: responseKeys.meta(id),
      ConditionExpression: '#owner = :owner AND (attribute_not_exists(#exp) OR #exp > :nowSec)',
      ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'expires_at' },
      ExpressionAttributeValues: { ':owner': owner, ':nowSec': this.nowSec() },
    })));
    if (!deleted) return false;
    // Every remaining item of the partition, stale generations included, and the event log. Best effort.
    await Promise.all([id, eventLogKeys.pk(id)].map((pk) => deletePartition(this.doc, this.tableName, pk))).catch(() => {});
    return true;
  }

  async listStale(beforeMs: number): Promise<string[]> {
    const ids: string[] = [];
    // The sparse index holds only live responses: never a Scan of the table.
    for await (const page of paginateQuery({ client: this.doc }, {
      TableName: this.tableName,
      IndexName: ACTIVE_INDEX,
      KeyConditionExpression: '#active = :active AND #updated < :cutoff',
      ExpressionAttributeNames: { '#active': 'active', '#updated': 'updated_at' },
      ExpressionAttributeValues: { ':active': ACTIVE, ':cutoff': beforeMs },
    })) for (const it of page.Items ?? []) ids.push(it.pk as string);
    return ids;
  }

  async claim(id: string, lease: string): Promise<StoredResponse | 'missing' | 'not_claimed' | ResponseStatus> {
    const values: Record<string, unknown> = { ':now': this.clock.nowMs(), ':active': ACTIVE, ':nowSec': this.nowSec() };
    const out = await conditionalWrite(this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: responseKeys.meta(id),
      // The Response blob keeps its `queued`: toStored takes the status from the meta item.
      UpdateExpression: 'SET #status = :claimed, lease = :lease, #updated = :now, #active = :active',
      ConditionExpression: `(attribute_not_exists(#exp) OR #exp > :nowSec) AND (${claimCondition(values, lease)})`,
      ExpressionAttributeNames: { '#status': 'status', '#updated': 'updated_at', '#active': 'active', '#exp': 'expires_at' },
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    })));
    if (!out) {
      // Why not, in one small read (dynalite returns no item with a failed condition).
      const progress = await this.progress(id);
      return !progress ? 'missing' : isTerminalStatus(progress.status) ? progress.status : 'not_claimed';
    }
    // Blobs in parts (a large input) cost a second round trip; parts rewritten meanwhile (a
    // cancel racing the claim) a full read.
    const claimed: Loaded = { meta: out.Attributes as Meta, parts: new Map() };
    for (const item of await this.getKeys(missingKeys(claimed))) claimed.parts.set(item.sk, item.blob);
    const loaded = missingKeys(claimed).length === 0 ? claimed : await this.load(id);
    return loaded ? this.toStored(loaded) : 'missing';
  }

  async getAny(id: string): Promise<StoredResponse | null> {
    const loaded = await this.load(id);
    return loaded && !this.expired(loaded.meta) ? this.toStored(loaded) : null;
  }

  async progress(id: string): Promise<{ status: ResponseStatus; lastSeq: number } | null> {
    const { Item } = await this.doc.send(new GetCommand({
      TableName: this.tableName,
      Key: responseKeys.meta(id),
      ProjectionExpression: '#status, last_seq, expires_at',
      ExpressionAttributeNames: { '#status': 'status' },
      ConsistentRead: true,
    }));
    const meta = Item as Meta | undefined;
    return meta && !this.expired(meta) ? { status: meta.status, lastSeq: meta.last_seq ?? -1 } : null;
  }

  async get(id: string, owner: string): Promise<StoredResponse | null> {
    const loaded = await this.load(id);
    return loaded && this.visible(loaded.meta, owner) ? this.toStored(loaded) : null;
  }

  async getChain(id: string, owner: string): Promise<StoredResponse[] | null> {
    // Round trip 1: the record's partition (meta first, then as many parts as one page holds).
    const first = await this.firstPage(id);
    if (!first || !this.visible(first.meta, owner)) return null;
    const refs = ((first.meta.ancestors ?? []) as string[]).map(parseRef);

    // Round trip 2: every ancestor's items by exact key, plus the record's parts not yet read.
    const keys = [...missingKeys(first)];
    for (const ref of refs) keys.push(responseKeys.meta(ref.id), ...partKeys(ref.id, 'i', ref.i), ...partKeys(ref.id, 'o', ref.o));
    type Entry = Partial<Loaded> & { parts: Map<string, Uint8Array> };
    const byId = new Map<string, Entry>([[id, first]]);
    for (const item of await this.getKeys(keys)) {
      const entry: Entry = byId.get(item.pk) ?? { parts: new Map() };
      byId.set(item.pk, entry);
      if (responseKeys.isMeta(item.sk)) entry.meta = item as Meta;
      else entry.parts.set(item.sk, item.blob);
    }
    const complete = async (entryId: string): Promise<Loaded | null> => {
      const entry = byId.get(entryId);
      if (!entry?.meta) return null; // deleted (or expired and removed by TTL)
      // An ancestor whose response was rewritten after this chain was made (its parts moved to a
      // new generation) costs a rare third round trip for that one record.
      return missingKeys(entry as Loaded).length === 0 ? entry as Loaded : this.load(entryId);
    };
    const [self, ...older] = await Promise.all([complete(id), ...refs.map((r) => complete(r.id))]);
    if (!self) return null;
    const chain = older.filter((anc): anc is Loaded => anc !== null && this.visible(anc.meta, owner));
    return Promise.all([...chain, self].map((l) => this.toStored(l)));
  }

  // ── internals ────────────────────────────────────────────────────────────

  /** The whole partition, by one Query and, for large records, one parallel BatchGetItem. */
  private async load(id: string): Promise<Loaded | null> {
    // A concurrent update may delete the parts of the generation we just read: read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const first = await this.firstPage(id);
      if (!first) return null;
      for (const item of await this.getKeys(missingKeys(first))) first.parts.set(item.sk, item.blob);
      if (missingKeys(first).length === 0) return first;
    }
    throw new Error(`response ${id}: blob parts missing after 3 reads`);
  }

  /** One Query page, newest sort keys first so the meta item ('r') always comes first. */
  private async firstPage(id: string): Promise<Loaded | null> {
    const page = await this.doc.send(new QueryCommand({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': id },
      ScanIndexForward: false,
      ConsistentRead: true,
    }));
    const items = page.Items ?? [];
    const meta = items.find((it) => responseKeys.isMeta(it.sk)) as Meta | undefined;
    if (!meta) return null;
    return { meta, parts: new Map(items.filter((it) => it !== meta).map((it) => [it.sk as string, it.blob as Uint8Array])) };
  }

  private getKeys(keys: Key[]): Promise<Item[]> {
    return keys.length ? batchGet(this.doc, this.tableName, keys, (k) => !responseKeys.isMeta(k.sk)) : Promise.resolve([]);
  }

  /** The blob as its part items (written now) or inline in the meta item. */
  private async writeBlob(id: string, kind: Kind, gen: string, value: unknown, expiresAt: number | null): Promise<BlobPtr> {
    const blob = await pack(value);
    if (blob.length <= INLINE_MAX) return { inline: blob };
    const ptr = { gen, parts: partCount(blob) };
    const exp = expiresAt !== null ? { expires_at: expiresAt } : {};
    await putItems(this.doc, this.tableName, partKeys(id, kind, ptr).map((key, i) => ({ ...key, blob: partOf(blob, i + 1), ...exp })));
    return ptr;
  }

  private expired(meta: Meta): boolean {
    return meta.expires_at !== undefined && meta.expires_at <= this.nowSec();
  }

  private visible(meta: Meta, owner: string): boolean {
    return meta.owner === owner && !this.expired(meta);
  }

  private async toStored({ meta, parts }: Loaded): Promise<StoredResponse> {
    const [inBlob, response] = await Promise.all([unpack<InputBlob>(blobOf(meta, parts, 'i')), unpack<ResponseObject>(blobOf(meta, parts, 'o'))]);
    const rec: StoredResponse = {
      id: meta.pk,
      owner: meta.owner,
      // The meta item's status is the record's: update() writes both, a claim only the meta item's.
      response: { ...response, status: meta.status },
      input: Array.isArray(inBlob) ? inBlob : inBlob.input,
      ancestors: meta.ancestors ?? [],
      endpoint: meta.endpoint ?? null,
      updatedAt: meta.updated_at,
      expiresAt: meta.expires_at ?? null,
      lease: meta.lease ?? null,
      lastSeq: meta.last_seq ?? -1,
    };
    if (!Array.isArray(inBlob) && inBlob.request) rec.request = inBlob.request;
    Object.defineProperty(rec, REF, { value: refOfMeta(meta), enumerable: false });
    return rec;
  }

  /** The parent's ref: known if we returned it, else its part pointers are read (one GetItem). */
  private async refOf(parent: StoredResponse): Promise<string> {
    const known = (parent as unknown as Record<symbol, string | undefined>)[REF];
    if (known) return known;
    const { Item } = await this.doc.send(new GetCommand({
      TableName: this.tableName,
      Key: responseKeys.meta(parent.id),
      ProjectionExpression: 'pk, in_gen, in_parts, out_gen, out_parts',
      ConsistentRead: true,
    }));
    return Item ? refOfMeta(Item as Meta) : parent.id;
  }

  /** The store's retention: from created_at, so part items written by later updates expire with the record. */
  private expiryOf(response: ResponseObject): number | null {
    return this.ttlSeconds === null ? null : response.created_at + this.ttlSeconds;
  }

  private nowSec(): number {
    return Math.floor(this.clock.nowMs() / 1000);
  }
}
