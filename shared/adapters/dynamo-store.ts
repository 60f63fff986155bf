// ResponseStore on one DynamoDB table (tables.ts `responses`). Item layout, all in the
// response's partition (pk = response id):
//
//   sk 'r'                meta: owner, status, created_at (s), updated_at (ms), expires_at (s, TTL),
//                         endpoint, active ('1' only while queued/in_progress: the sparse sweep
//                         index), ancestors (refs, oldest first), and two gzipped JSON blobs:
//                         input (written once) and response (replaced by every update). Each blob
//                         is inline (`in_blob` / `out_blob`) or split into part items
//                         (`in_gen`+`in_parts` / `out_gen`+`out_parts`).
//   sk 'i#<gen>#0001'…    input parts      } at most PART_BYTES each; written BEFORE the meta item
//   sk 'o#<gen>#0001'…    response parts   } under a fresh generation, so a reader never mixes two
//
// Separate blobs mean an update rewrites only the response, never a multi-MB input.
// An ancestor ref is `id[|i<gen>.<n>][|o<gen>.<n>]`: enough to name every item of that ancestor
// by exact key, so getChain is one Query plus one (parallel, chunked) BatchGetItem.
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { batchGetChunks, batchWriteChunks, chunk, deletePartition } from './dynamo-batch.ts';
import { conditionalWrite } from './dynamo-conditional.ts';
import type { Clock, NewStoredResponse, ResponseStore, StoredResponse, UpdateOptions } from '../ports.ts';
import { systemClock } from '../ports.ts';
import { TERMINAL_STATUSES, type InputItem, type ResponseObject, type ResponseStatus, type StreamEvent } from '../protocol/types.ts';

/** Largest part item payload: under the 400 KB item limit with room for keys and attributes. */
const PART_BYTES = 350_000;
/**
 * Largest blob kept inside the meta item. Two inline blobs (input + response) stay under 200 KB,
 * leaving the rest of the 400 KB item to the ancestors list (~3000 refs of a chain).
 */
const INLINE_MAX = 100_000;
const META_SK = 'r';
const ACTIVE = '1';
const ACTIVE_INDEX = 'active-index';
const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;
/** Per BatchGetItem call: dynalite answers ~1.4 MB per call (DynamoDB 16 MB); stay under both. */
const BATCH_GET_BYTES = 1_000_000;
const BATCH_GET_KEYS = 100;
const BATCH_WRITE_ITEMS = 25;
const BATCH_WRITE_BYTES = 4_000_000;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

type Kind = 'i' | 'o';
type Key = { pk: string; sk: string };
type Item = Record<string, any>;
/** Where a blob lives: inline in the meta item, or in `parts` part items of generation `gen`. */
type BlobPtr = { inline: Uint8Array } | { gen: string; parts: number };
type PartsPtr = { gen: string; parts: number };
interface Ref { id: string; i?: PartsPtr; o?: PartsPtr }

interface Meta {
  pk: string;
  sk: string;
  owner: string;
  status: ResponseStatus;
  created_at: number;
  updated_at: number;
  expires_at?: number;
  endpoint?: string;
  active?: string;
  ancestors?: string[];
  lease?: string;
  last_seq?: number;
  in_blob?: Uint8Array;
  in_gen?: string;
  in_parts?: number;
  out_blob?: Uint8Array;
  out_gen?: string;
  out_parts?: number;
}

/** A partition as read so far: its meta item and the part blobs by sort key. */
interface Loaded { meta: Meta; parts: Map<string, Uint8Array> }

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

  // ── writes ───────────────────────────────────────────────────────────────

  async create(rec: NewStoredResponse, parent: StoredResponse | null): Promise<void> {
    const ancestors = parent ? [...parent.ancestors, await this.refOf(parent)] : [];
    // The store's retention policy decides expiry (rec.expiresAt is not consulted): it is derived
    // from created_at alone, so part items written by later updates get the same expiry.
    const expiresAt = this.expiryOf(rec.response);
    const gen = newGen();
    const [inBlob, outBlob] = await Promise.all([pack(rec.input), pack(rec.response)]);
    const inPtr = pointerFor(inBlob, gen);
    const outPtr = pointerFor(outBlob, gen);
    const parts = [
      ...partItems(rec.id, 'i', inPtr, inBlob, expiresAt),
      ...partItems(rec.id, 'o', outPtr, outBlob, expiresAt),
    ];
    await this.batchWrite(parts.map((Item) => ({ PutRequest: { Item } })));

    const meta: Item = {
      pk: rec.id,
      sk: META_SK,
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
    if (!isTerminal(rec.response.status)) meta.active = ACTIVE;
    try {
      await this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: meta,
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
    } catch (err) {
      await this.deleteKeys(parts).catch(() => {}); // our fresh generation only; never the existing record's
      throw err;
    }
  }

  update(id: string, response: ResponseObject, opts: UpdateOptions): Promise<boolean> {
    return this.replace(id, response, opts, this.clock.nowMs());
  }

  /**
   * Conditional replacement of the response blob. `expectUpdatedAt` additionally requires the
   * heartbeat to be unchanged (the sweeper's guard: a live writer wins the race); `lease`
   * requires the worker's lease to still be the stored one.
   */
  private async replace(id: string, response: ResponseObject, opts: UpdateOptions, nowMs: number): Promise<boolean> {
    const { from, endpoint, expectUpdatedAt } = opts;
    if (from.length === 0) return false;
    const blob = await pack(response);
    const ptr = pointerFor(blob, newGen());
    const parts = partItems(id, 'o', ptr, blob, this.expiryOf(response));
    await this.batchWrite(parts.map((Item) => ({ PutRequest: { Item } })));

    const names: Record<string, string> = { '#status': 'status', '#updated': 'updated_at' };
    const values: Record<string, unknown> = { ':status': response.status, ':now': nowMs };
    const set = ['#status = :status', '#updated = :now'];
    const remove: string[] = [];
    if ('inline' in ptr) {
      set.push('out_blob = :blob');
      values[':blob'] = ptr.inline;
      remove.push('out_gen', 'out_parts');
    } else {
      set.push('out_gen = :gen', 'out_parts = :parts');
      values[':gen'] = ptr.gen;
      values[':parts'] = ptr.parts;
      remove.push('out_blob');
    }
    names['#active'] = 'active';
    if (isTerminal(response.status)) remove.push('#active');
    else { set.push('#active = :active'); values[':active'] = ACTIVE; }
    if (endpoint !== undefined) {
      names['#endpoint'] = 'endpoint';
      if (endpoint === null) remove.push('#endpoint');
      else { set.push('#endpoint = :endpoint'); values[':endpoint'] = endpoint; }
    }
    if (opts.setLease !== undefined) { set.push('lease = :setLease'); values[':setLease'] = opts.setLease; }
    if (opts.lastSeq !== undefined) { set.push('last_seq = :lastSeq'); values[':lastSeq'] = opts.lastSeq; }
    const fromNames = from.map((s, i) => { values[`:from${i}`] = s; return `:from${i}`; });
    let condition = `#status IN (${fromNames.join(', ')})`;
    if (expectUpdatedAt !== undefined) {
      condition += ' AND #updated = :seen';
      values[':seen'] = expectUpdatedAt;
    }
    if (opts.lease !== undefined) {
      condition += ' AND lease = :lease';
      values[':lease'] = opts.lease;
    }

    const out = await conditionalWrite(this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { pk: id, sk: META_SK },
      UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'UPDATED_OLD',
    })));
    if (!out) {
      await this.deleteKeys(parts).catch(() => {});
      return false;
    }
    const old = out.Attributes;
    // The previous generation's parts are unreferenced now. Best effort: a reader that raced us
    // re-reads on missing parts, and TTL removes whatever a failed cleanup leaves.
    if (old?.out_gen && old.out_gen !== ('gen' in ptr ? ptr.gen : undefined)) {
      await this.deleteKeys(partKeys(id, 'o', { gen: old.out_gen, parts: old.out_parts ?? 0 })).catch(() => {});
    }
    return true;
  }

  async delete(id: string, owner: string): Promise<boolean> {
    // Meta first: once it is gone the record reads as missing, whatever happens to the parts.
    const deleted = await conditionalWrite(this.doc.send(new DeleteCommand({
      TableName: this.tableName,
      Key: { pk: id, sk: META_SK },
      ConditionExpression: '#owner = :owner AND (attribute_not_exists(#exp) OR #exp > :nowSec)',
      ExpressionAttributeNames: { '#owner': 'owner', '#exp': 'expires_at' },
      ExpressionAttributeValues: { ':owner': owner, ':nowSec': this.nowSec() },
    })));
    if (!deleted) return false;
    // Every remaining item of the partition, stale generations included, and the event log.
    // Best effort (see above).
    await Promise.all([this.deletePartition(id), this.deletePartition(eventsPk(id))]).catch(() => {});
    return true;
  }

  // ── event log ────────────────────────────────────────────────────────────
  // A partition of its own (`<id>#ev`), so reading a record never reads its events. One item
  // per appended batch, keyed by the batch's LAST sequence number: the items holding events
  // after N are exactly those whose key is greater than N.

  async appendEvents(id: string, events: readonly StreamEvent[], createdAt: number): Promise<void> {
    if (events.length === 0) return;
    const last = events[events.length - 1]!.sequence_number;
    const expiresAt = this.ttlSeconds === null ? null : createdAt + this.ttlSeconds;
    await this.doc.send(new PutCommand({
      TableName: this.tableName,
      Item: { pk: eventsPk(id), sk: seqKey(last), blob: await pack(events), ...(expiresAt !== null ? { expires_at: expiresAt } : {}) },
    }));
  }

  async readEvents(id: string, afterSeq: number): Promise<StreamEvent[]> {
    const out: StreamEvent[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk > :after',
        ExpressionAttributeValues: { ':pk': eventsPk(id), ':after': seqKey(afterSeq) },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }));
      startKey = page.LastEvaluatedKey;
      for (const item of page.Items ?? []) {
        for (const ev of await unpack<StreamEvent[]>(item.blob)) if (ev.sequence_number > afterSeq) out.push(ev);
      }
    } while (startKey);
    return out;
  }

  async getAny(id: string): Promise<StoredResponse | null> {
    const loaded = await this.load(id);
    if (!loaded || (loaded.meta.expires_at !== undefined && loaded.meta.expires_at <= this.nowSec())) return null;
    return this.toStored(loaded);
  }

  async failOrphaned(olderThanMs: number, now: number): Promise<number> {
    const cutoff = now - olderThanMs;
    let failed = 0;
    let startKey: Item | undefined;
    do {
      // The sparse index holds only live responses: never a Scan of the table.
      const page = await this.doc.send(new QueryCommand({
        TableName: this.tableName,
        IndexName: ACTIVE_INDEX,
        KeyConditionExpression: '#active = :active AND #updated < :cutoff',
        ExpressionAttributeNames: { '#active': 'active', '#updated': 'updated_at' },
        ExpressionAttributeValues: { ':active': ACTIVE, ':cutoff': cutoff },
        ExclusiveStartKey: startKey,
      }));
      startKey = page.LastEvaluatedKey;
      const ids = (page.Items ?? []).map((it) => it.pk as string);
      for (let i = 0; i < ids.length; i += 8) {
        const done = await Promise.all(ids.slice(i, i + 8).map((id) => this.failOne(id, cutoff, now)));
        failed += done.filter(Boolean).length;
      }
    } while (startKey);
    return failed;
  }

  private async failOne(id: string, cutoff: number, now: number): Promise<boolean> {
    // The index is eventually consistent: judge by a consistent read of the record itself.
    const loaded = await this.load(id);
    if (!loaded || isTerminal(loaded.meta.status) || loaded.meta.updated_at >= cutoff) return false;
    const { response } = await decode(loaded);
    const seconds = Math.round((now - loaded.meta.updated_at) / 1000);
    const failed: ResponseObject = {
      ...response,
      status: 'failed',
      completed_at: null,
      error: {
        code: 'server_error',
        message: `The response was abandoned: no progress was recorded for ${seconds} seconds (the process running it stopped).`,
      },
    };
    return this.replace(id, failed, { from: ['queued', 'in_progress'], expectUpdatedAt: loaded.meta.updated_at }, now);
  }

  // ── reads ────────────────────────────────────────────────────────────────

  async get(id: string, owner: string): Promise<StoredResponse | null> {
    const loaded = await this.load(id);
    if (!loaded || !this.visible(loaded.meta, owner)) return null;
    return this.toStored(loaded);
  }

  async getChain(id: string, owner: string): Promise<StoredResponse[] | null> {
    // Round trip 1: the record's partition (meta first, then as many parts as one page holds).
    const first = await this.firstPage(id);
    if (!first || !this.visible(first.meta, owner)) return null;
    const refs = (first.meta.ancestors ?? []).map(parseRef);

    // Round trip 2: every ancestor's items by exact key, plus the record's parts not yet read.
    const keys = [...missingKeys(first)];
    for (const ref of refs) {
      keys.push({ pk: ref.id, sk: META_SK });
      if (ref.i) keys.push(...partKeys(ref.id, 'i', ref.i));
      if (ref.o) keys.push(...partKeys(ref.id, 'o', ref.o));
    }
    const byId = new Map<string, Loaded | { parts: Map<string, Uint8Array> }>();
    byId.set(id, first);
    for (const item of await this.batchGet(keys)) {
      const entry = byId.get(item.pk) ?? { parts: new Map() };
      byId.set(item.pk, entry);
      if (item.sk === META_SK) (entry as Loaded).meta = item as Meta;
      else entry.parts.set(item.sk, item.blob);
    }

    const complete = async (entryId: string): Promise<Loaded | null> => {
      const entry = byId.get(entryId);
      if (entry && 'meta' in entry && entry.meta) {
        if (missingKeys(entry).length === 0) return entry;
        // The ancestor's response was rewritten after this chain was made (its parts moved to
        // a new generation): a rare third round trip for that one record.
        return this.load(entryId);
      }
      return null; // deleted (or expired and removed by TTL)
    };
    const [self, ...older] = await Promise.all([complete(id), ...refs.map((r) => complete(r.id))]);
    if (!self) return null;
    const chain: Loaded[] = [];
    for (const anc of older) if (anc && this.visible(anc.meta, owner)) chain.push(anc);
    chain.push(self);
    return Promise.all(chain.map((l) => this.toStored(l)));
  }

  /** The whole partition, by one Query and, for large records, one parallel BatchGetItem. */
  private async load(id: string): Promise<Loaded | null> {
    // A concurrent update may delete the parts of the generation we just read: read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const first = await this.firstPage(id);
      if (!first) return null;
      const missing = missingKeys(first);
      if (missing.length === 0) return first;
      for (const item of await this.batchGet(missing)) first.parts.set(item.sk, item.blob);
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
    const meta = items.find((it) => it.sk === META_SK) as Meta | undefined;
    if (!meta) return null;
    const parts = new Map<string, Uint8Array>();
    for (const it of items) if (it.sk !== META_SK) parts.set(it.sk, it.blob);
    return { meta, parts };
  }

  private visible(meta: Meta, owner: string): boolean {
    return meta.owner === owner && !(meta.expires_at !== undefined && meta.expires_at <= this.nowSec());
  }

  private async toStored(loaded: Loaded): Promise<StoredResponse> {
    const { meta } = loaded;
    const { input, response } = await decode(loaded);
    const rec: StoredResponse = {
      id: meta.pk,
      owner: meta.owner,
      response,
      input,
      ancestors: meta.ancestors ?? [],
      endpoint: meta.endpoint ?? null,
      updatedAt: meta.updated_at,
      expiresAt: meta.expires_at ?? null,
      lease: meta.lease ?? null,
      lastSeq: meta.last_seq ?? -1,
    };
    Object.defineProperty(rec, REF, { value: refOfMeta(meta), enumerable: false });
    return rec;
  }

  /** The parent's ref: known if we returned it, else its part pointers are read (one GetItem). */
  private async refOf(parent: StoredResponse): Promise<string> {
    const known = (parent as unknown as Record<symbol, string | undefined>)[REF];
    if (known) return known;
    const { Item } = await this.doc.send(new GetCommand({
      TableName: this.tableName,
      Key: { pk: parent.id, sk: META_SK },
      ProjectionExpression: 'pk, in_gen, in_parts, out_gen, out_parts',
      ConsistentRead: true,
    }));
    return Item ? refOfMeta(Item as Meta) : parent.id;
  }

  // ── batches ──────────────────────────────────────────────────────────────

  /** BatchGetItem in parallel chunks; retrying UnprocessedKeys is the one extra round trip allowed. */
  private batchGet(keys: Key[]): Promise<Item[]> {
    const unique = [...new Map(keys.map((k) => [`${k.pk}\n${k.sk}`, k])).values()];
    return batchGetChunks(this.doc, this.tableName, chunk(unique, BATCH_GET_KEYS, BATCH_GET_BYTES, (k) => (k.sk === META_SK ? 4_000 : PART_BYTES)));
  }

  /** BatchWriteItem in parallel chunks of <= 25, retrying UnprocessedItems. */
  private batchWrite(requests: Item[]): Promise<void> {
    const size = (r: Item) => (r.PutRequest?.Item?.blob?.length ?? 0) + 100;
    return batchWriteChunks(this.doc, this.tableName, chunk(requests, BATCH_WRITE_ITEMS, BATCH_WRITE_BYTES, size));
  }

  private deleteKeys(keys: Key[]): Promise<void> {
    return this.batchWrite(keys.map(({ pk, sk }) => ({ DeleteRequest: { Key: { pk, sk } } })));
  }

  private deletePartition(id: string): Promise<void> {
    return deletePartition(this.doc, this.tableName, id);
  }

  private expiryOf(response: ResponseObject): number | null {
    return this.ttlSeconds === null ? null : response.created_at + this.ttlSeconds;
  }

  private nowSec(): number {
    return Math.floor(this.clock.nowMs() / 1000);
  }
}

// ── blobs, parts and refs (pure) ───────────────────────────────────────────

const isTerminal = (s: ResponseStatus) => TERMINAL_STATUSES.includes(s);
const eventsPk = (id: string) => `${id}#ev`;
/** Sequence numbers as sort keys that order as numbers (-1, 'before everything', included). */
const seqKey = (seq: number) => `e#${String(seq + 1).padStart(10, '0')}`;
const newGen = () => randomBytes(4).toString('hex');

async function pack(value: unknown): Promise<Uint8Array> {
  return gzipAsync(Buffer.from(JSON.stringify(value)));
}

async function unpack<T>(blob: Uint8Array): Promise<T> {
  return JSON.parse((await gunzipAsync(blob)).toString('utf8')) as T;
}

function pointerFor(blob: Uint8Array, gen: string): BlobPtr {
  return blob.length <= INLINE_MAX ? { inline: blob } : { gen, parts: Math.ceil(blob.length / PART_BYTES) };
}

const partSk = (kind: Kind, gen: string, n: number) => `${kind}#${gen}#${String(n).padStart(4, '0')}`;

function partKeys(id: string, kind: Kind, ptr: PartsPtr): Key[] {
  return Array.from({ length: ptr.parts }, (_, i) => ({ pk: id, sk: partSk(kind, ptr.gen, i + 1) }));
}

function partItems(id: string, kind: Kind, ptr: BlobPtr, blob: Uint8Array, expiresAt: number | null): Array<Key & Item> {
  if ('inline' in ptr) return [];
  return partKeys(id, kind, ptr).map((key, i) => ({
    ...key,
    blob: blob.subarray(i * PART_BYTES, (i + 1) * PART_BYTES),
    ...(expiresAt !== null ? { expires_at: expiresAt } : {}),
  }));
}

function blobAttrs(prefix: 'in' | 'out', ptr: BlobPtr): Item {
  return 'inline' in ptr
    ? { [`${prefix}_blob`]: ptr.inline }
    : { [`${prefix}_gen`]: ptr.gen, [`${prefix}_parts`]: ptr.parts };
}

function partsOf(meta: Meta, kind: Kind): PartsPtr | undefined {
  const gen = kind === 'i' ? meta.in_gen : meta.out_gen;
  const parts = kind === 'i' ? meta.in_parts : meta.out_parts;
  return gen ? { gen, parts: parts ?? 0 } : undefined;
}

/** Part keys the meta item points at that have not been read yet. */
function missingKeys({ meta, parts }: Loaded): Key[] {
  const keys: Key[] = [];
  for (const kind of ['i', 'o'] as const) {
    const ptr = partsOf(meta, kind);
    if (ptr) keys.push(...partKeys(meta.pk, kind, ptr).filter((k) => !parts.has(k.sk)));
  }
  return keys;
}

function blobOf({ meta, parts }: Loaded, kind: Kind): Uint8Array {
  const ptr = partsOf(meta, kind);
  if (!ptr) {
    const inline = kind === 'i' ? meta.in_blob : meta.out_blob;
    if (!inline) throw new Error(`response ${meta.pk}: no ${kind === 'i' ? 'input' : 'response'} blob`);
    return inline;
  }
  return Buffer.concat(partKeys(meta.pk, kind, ptr).map((k) => parts.get(k.sk)!));
}

async function decode(loaded: Loaded): Promise<{ input: InputItem[]; response: ResponseObject }> {
  const [input, response] = await Promise.all([
    unpack<InputItem[]>(blobOf(loaded, 'i')),
    unpack<ResponseObject>(blobOf(loaded, 'o')),
  ]);
  return { input, response };
}

function refOfMeta(meta: Meta): string {
  let ref = meta.pk;
  const i = partsOf(meta, 'i');
  const o = partsOf(meta, 'o');
  if (i) ref += `|i${i.gen}.${i.parts}`;
  if (o) ref += `|o${o.gen}.${o.parts}`;
  return ref;
}

function parseRef(ref: string): Ref {
  const [id, ...segs] = ref.split('|');
  const out: Ref = { id: id! };
  for (const seg of segs) {
    const [gen, parts] = seg.slice(1).split('.');
    if ((seg[0] === 'i' || seg[0] === 'o') && gen && parts) out[seg[0]] = { gen, parts: Number(parts) };
  }
  return out;
}



// ── round-trip counting (benchmarks, tests) ────────────────────────────────

export interface CallCounter {
  readonly count: number;
  byCommand: Record<string, number>;
  reset(): void;
}

let counterSeq = 0;

/**
 * Counts every request the client sends (a DynamoDBDocumentClient made from it shares its
 * middleware stack). Counted per HTTP attempt, so SDK retries show up as round trips too.
 */
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
