// CacheStore on the cache table (layout.ts: an entry per key, the `stats` totals and a
// `stats#<principal>` item per principal). An entry carries history (the fingerprint of the
// history it was made from), expires_ms (exact expiry, what reads check) and expires_at (DynamoDB's TTL,
// which deletes late, and never on dynalite). Hit and miss counts are kept per process and added
// with ADD at most every `flushMs` to the totals item and to the item of each principal that asked
// (a tenant sees its own counts; the totals are for an operator).
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CacheStats, CacheStore, Clock } from '../../ports.ts';
import { systemClock } from '../../ports.ts';
import type { ResponseObject } from '../../protocol/types.ts';
import { log } from '../../log.ts';
import { pack, PART_BYTES, unpack } from './blob.ts';
import { cacheKeys } from './layout.ts';

const FLUSH_MS = 5_000;

export interface DynamoCacheOptions {
  clock?: Clock;
  /** Counters go to DynamoDB at most this often: one write per interval, not one per request. */
  flushMs?: number;
  /** Compressed entries above this many bytes are not cached. */
  maxBytes?: number;
}

export class DynamoCacheStore implements CacheStore {
  /** This process's counts since it started. */
  readonly local: CacheStats = { hits: 0, misses: 0 };
  /** Counts not yet added to the totals item. */
  private pending: CacheStats = { hits: 0, misses: 0 };
  /** Counts not yet added to each principal's item. */
  private pendingOf = new Map<string, CacheStats>();
  private lastFlushMs: number;
  private flushing: Promise<void> = Promise.resolve();
  private readonly clock: Clock;
  private readonly flushMs: number;
  private readonly maxBytes: number;

  constructor(private readonly doc: DynamoDBDocumentClient, private readonly tableName: string, opts: DynamoCacheOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.flushMs = opts.flushMs ?? FLUSH_MS;
    this.maxBytes = opts.maxBytes ?? PART_BYTES;
    this.lastFlushMs = this.clock.nowMs();
  }

  async get(key: string, nowMs: number, history: Promise<string>, principal?: string): Promise<ResponseObject | null> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: cacheKeys.entry(key) }));
    const live = Item !== undefined && !(typeof Item.expires_ms === 'number' && Item.expires_ms <= nowMs) && Item.history === await history;
    const response = live ? await unpack<ResponseObject>(Item.blob) : null;
    this.count(response !== null, nowMs, principal);
    return response;
  }

  async put(key: string, response: ResponseObject, ttlSeconds: number | null, history: string): Promise<void> {
    const blob = await pack(response);
    if (blob.length > this.maxBytes) {
      log.warn('cache entry too large, not cached', { id: response.id, bytes: blob.length, max_bytes: this.maxBytes });
      return;
    }
    const item: Record<string, unknown> = { ...cacheKeys.entry(key), blob, history };
    if (ttlSeconds !== null) {
      const expiresMs = this.clock.nowMs() + ttlSeconds * 1000;
      item.expires_ms = expiresMs;
      item.expires_at = Math.ceil(expiresMs / 1000);
    }
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async stats(principal?: string): Promise<CacheStats> {
    await this.flush();
    const key = principal === undefined ? cacheKeys.stats : cacheKeys.statsOf(principal);
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    // A failed flush left counts pending: they are still ours to report.
    const pending = principal === undefined ? this.pending : this.pendingOf.get(principal) ?? { hits: 0, misses: 0 };
    return { hits: Number(Item?.hits ?? 0) + pending.hits, misses: Number(Item?.misses ?? 0) + pending.misses };
  }

  /** Adds the pending counts to the counter item; never rejects (a failure keeps them pending). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private count(hit: boolean, nowMs: number, principal: string | undefined): void {
    const field = hit ? 'hits' : 'misses';
    this.local[field]++;
    this.pending[field]++;
    if (principal !== undefined) {
      const mine = this.pendingOf.get(principal) ?? { hits: 0, misses: 0 };
      mine[field]++;
      this.pendingOf.set(principal, mine);
    }
    if (nowMs - this.lastFlushMs >= this.flushMs) {
      this.lastFlushMs = nowMs;
      void this.flush();
    }
  }

  private async write(): Promise<void> {
    const { hits, misses } = this.pending;
    const principals = this.pendingOf;
    if (hits === 0 && misses === 0 && principals.size === 0) return;
    this.pending = { hits: 0, misses: 0 };
    this.pendingOf = new Map();
    // The items are written side by side; a failed write puts its counts back, beside any counted meanwhile.
    const totals = async () => {
      if ((hits > 0 || misses > 0) && !(await this.add(cacheKeys.stats, { hits, misses }))) addTo(this.pending, { hits, misses });
    };
    const principal = async ([name, counts]: [string, CacheStats]) => {
      if (await this.add(cacheKeys.statsOf(name), counts)) return;
      this.pendingOf.set(name, addTo(this.pendingOf.get(name) ?? { hits: 0, misses: 0 }, counts));
    };
    await Promise.all([totals(), ...[...principals].map(principal)]);
  }

  /** ADDs `counts` to the counter item at `key`; false (logged) when the write failed. */
  private async add(key: Record<string, string>, counts: CacheStats): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'ADD hits :h, misses :m',
        ExpressionAttributeValues: { ':h': counts.hits, ':m': counts.misses },
      }));
      return true;
    } catch (err) {
      log.error('could not flush cache counters', err as Error);
      return false;
    }
  }
}

function addTo(to: CacheStats, counts: CacheStats): CacheStats {
  to.hits += counts.hits;
  to.misses += counts.misses;
  return to;
}
