// CacheStore on the cache table (layout.ts: an entry per key and the `stats` counter item).
// An entry carries expires_ms (exact expiry, what reads check) and expires_at (DynamoDB's TTL,
// which deletes late, and never on dynalite). Hit and miss counts are kept per process and added
// to the counter item with ADD at most every `flushMs`.
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
  /** Counts not yet added to the counter item. */
  private pending: CacheStats = { hits: 0, misses: 0 };
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

  async get(key: string, nowMs: number, history: Promise<string>): Promise<ResponseObject | null> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: cacheKeys.entry(key) }));
    const live = Item !== undefined && !(typeof Item.expires_ms === 'number' && Item.expires_ms <= nowMs) && Item.history === await history;
    const response = live ? await unpack<ResponseObject>(Item.blob) : null;
    this.count(response !== null, nowMs);
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

  async stats(): Promise<CacheStats> {
    await this.flush();
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: cacheKeys.stats, ConsistentRead: true }));
    // A failed flush left counts pending: they are still ours to report.
    return { hits: Number(Item?.hits ?? 0) + this.pending.hits, misses: Number(Item?.misses ?? 0) + this.pending.misses };
  }

  /** Adds the pending counts to the counter item; never rejects (a failure keeps them pending). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private count(hit: boolean, nowMs: number): void {
    const field = hit ? 'hits' : 'misses';
    this.local[field]++;
    this.pending[field]++;
    if (nowMs - this.lastFlushMs >= this.flushMs) {
      this.lastFlushMs = nowMs;
      void this.flush();
    }
  }

  private async write(): Promise<void> {
    const { hits, misses } = this.pending;
    if (hits === 0 && misses === 0) return;
    this.pending = { hits: 0, misses: 0 };
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.tableName,
        Key: cacheKeys.stats,
        UpdateExpression: 'ADD hits :h, misses :m',
        ExpressionAttributeValues: { ':h': hits, ':m': misses },
      }));
    } catch (err) {
      this.pending.hits += hits;
      this.pending.misses += misses;
      log.error('could not flush cache counters', err as Error);
    }
  }
}
