// The DynamoDB tables, whole: their definitions (the local stand-in, dynalite, creates them from
// here and the CDK stack maps the same data onto `aws_dynamodb.TableV2`) and the key of every item
// in them. Every store reads and writes through the key builders below; nothing else names a key.
//
// `responses`: pk (S), sk (S); TTL on `expires_at` (epoch seconds; DynamoDB deletes late and
// dynalite never, so every read checks expiry itself); the sparse GSI `active-index`; durable
// (point-in-time recovery, retained).
//
//   pk                        sk                      item
//   resp_<id>                 r                       a response's meta: owner, status, created_at (s),
//                                                     updated_at (ms, the heartbeat), expires_at, endpoint,
//                                                     active ('1' only while queued/in_progress: the
//                                                     sweep's index), ancestors (chain refs), lease,
//                                                     last_seq, and two gzipped blobs, each inline
//                                                     (`in_blob`/`out_blob`) or in parts (`*_gen`+`*_parts`)
//   resp_<id>                 i#<gen>#0001…           parts of the input blob (items + stored request)
//   resp_<id>                 o#<gen>#0001…           parts of the response blob
//   resp_<id>#ev              e#<last seq + 1>        one batch of a background response's event log
//   conv_<id>                 c                       a conversation's meta: owner, created_at, metadata_json,
//                                                     next_seq (appends reserve ranges with ADD)
//   conv_<id>                 i#<seq>                 one conversation item: item_id, blob or parts
//   conv_<id>                 b#<seq>#0001…           the parts of a large item
//   conv_<id>                 x#<item id>             the id index: seq, parts, owner
//   slot#<endpoint>|<model>   <n>                     a concurrency slot: holder, lease_until (ms), expires_at
//
// Sort keys within a conversation order as 'b#' < 'c' < 'i#' < 'x#': the meta item and every item
// in order are one Query. Keys of generated ids never collide across kinds: responses and
// conversations have their own prefixes, the others a `#` no id contains.
//
// `cache`: pk (S) only; TTL on `expires_at`; not durable (no point-in-time recovery, dropped with
// the stack): everything in it can be made again, and a lookup that fails is a miss.
//
//   pk                        item
//   <sha256 hex>              a cached Response: blob (gzip), history (the fingerprint of the history
//                             it was made from: a lookup must match it), expires_ms (exact expiry), expires_at
//   stats                     hits, misses of every process (ADD); no hex digest is `stats`
//   stats#<principal>         hits, misses of one principal (ADD)
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyDef {
  name: string;
  type: AttributeType;
}

export interface IndexDef {
  indexName: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  projectionType: 'KEYS_ONLY' | 'INCLUDE' | 'ALL';
  /** Only with projectionType INCLUDE. */
  nonKeyAttributes?: string[];
}

export interface TableDef {
  /** Logical name: the table's name locally; in AWS, CDK names the table. */
  name: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  /** Epoch-seconds attribute DynamoDB's TTL deletes by (late: readers check it themselves). */
  timeToLiveAttribute?: string;
  globalSecondaryIndexes: IndexDef[];
  /**
   * Holds what nothing can make again: in AWS, point-in-time recovery, and kept (with deletion
   * protection) when the stack goes unless its removalPolicy is `destroy`. A table that is not
   * durable has neither and is dropped with the stack.
   */
  durable: boolean;
}

/** Responses, their event logs, conversations and concurrency slots (see the layout above). */
export const RESPONSES_TABLE: TableDef = {
  name: 'responses',
  durable: true,
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  timeToLiveAttribute: 'expires_at',
  globalSecondaryIndexes: [
    {
      // Sparse: only meta items of queued/in_progress responses carry `active`, so the orphan
      // sweep queries exactly the live set, oldest heartbeat first. Keys are all it needs.
      indexName: 'active-index',
      partitionKey: { name: 'active', type: 'S' },
      sortKey: { name: 'updated_at', type: 'N' },
      projectionType: 'KEYS_ONLY',
    },
  ],
};

/** The response cache's entries and its counter item: TTL'd, and nothing in it is lost if it goes. */
export const CACHE_TABLE: TableDef = {
  name: 'cache',
  durable: false,
  partitionKey: { name: 'pk', type: 'S' },
  timeToLiveAttribute: 'expires_at',
  globalSecondaryIndexes: [],
};

export const TABLES = { responses: RESPONSES_TABLE, cache: CACHE_TABLE } as const;
export type TableKey = keyof typeof TABLES;

/** `responses` -> `RESPONSES_TABLE`: the variable a Lambda function reads a table's name from (the stack sets it). */
export function tableEnvName(key: TableKey): string {
  return `${key.toUpperCase()}_TABLE`;
}

/** The table names outside AWS (dynalite, a DynamoDB endpoint of one's own): the logical names. */
export function tableNames(): Record<TableKey, string> {
  const out = {} as Record<TableKey, string>;
  for (const key of Object.keys(TABLES) as TableKey[]) out[key] = TABLES[key].name;
  return out;
}

/** The CreateTable request for a definition (on-demand billing, as in AWS). */
export function createTableInput(def: TableDef, tableName: string): CreateTableCommandInput {
  const attrs = new Map<string, AttributeType>();
  const keySchema = (pk: KeyDef, sk?: KeyDef) => {
    for (const k of sk ? [pk, sk] : [pk]) attrs.set(k.name, k.type);
    return [
      { AttributeName: pk.name, KeyType: 'HASH' as const },
      ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
    ];
  };
  const input: CreateTableCommandInput = {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: keySchema(def.partitionKey, def.sortKey),
  };
  if (def.globalSecondaryIndexes.length > 0) {
    input.GlobalSecondaryIndexes = def.globalSecondaryIndexes.map((ix) => ({
      IndexName: ix.indexName,
      KeySchema: keySchema(ix.partitionKey, ix.sortKey),
      Projection: {
        ProjectionType: ix.projectionType,
        ...(ix.projectionType === 'INCLUDE' ? { NonKeyAttributes: ix.nonKeyAttributes ?? [] } : {}),
      },
    }));
  }
  input.AttributeDefinitions = [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
  return input;
}

// ── keys ───────────────────────────────────────────────────────────────────

export type Key = { pk: string; sk: string };

const pad = (n: number, digits: number) => String(n).padStart(digits, '0');
const SEQ_DIGITS = 10;

/** The index the orphan sweep queries, and the value of `active` on live responses. */
export const ACTIVE_INDEX = 'active-index';
export const ACTIVE = '1';

export const responseKeys = {
  meta: (id: string): Key => ({ pk: id, sk: 'r' }),
  /** Part n (from 1) of the input (`i`) or response (`o`) blob of generation `gen`. */
  part: (id: string, kind: 'i' | 'o', gen: string, n: number): Key => ({ pk: id, sk: `${kind}#${gen}#${pad(n, 4)}` }),
  isMeta: (sk: string) => sk === 'r',
};

export const eventLogKeys = {
  pk: (responseId: string) => `${responseId}#ev`,
  /** Keyed by the batch's LAST sequence number, so the items after N are those with a greater key (-1 included). */
  sk: (lastSeq: number) => `e#${pad(lastSeq + 1, SEQ_DIGITS)}`,
};

export const conversationKeys = {
  meta: (id: string): Key => ({ pk: id, sk: 'c' }),
  item: (id: string, seq: number): Key => ({ pk: id, sk: `i#${pad(seq, SEQ_DIGITS)}` }),
  part: (id: string, seq: number, n: number): Key => ({ pk: id, sk: `b#${pad(seq, SEQ_DIGITS)}#${pad(n, 4)}` }),
  index: (id: string, itemId: string): Key => ({ pk: id, sk: `x#${itemId}` }),
  /** The sort key range of every item, in order. */
  firstItemSk: `i#${'0'.repeat(SEQ_DIGITS)}`,
  lastItemSk: `i#${'9'.repeat(SEQ_DIGITS)}`,
  seqOf: (itemSk: string) => Number(itemSk.slice(2)),
  itemIdOf: (indexSk: string) => indexSk.slice(2),
};

/** Keys in the `cache` table. */
export const cacheKeys = {
  entry: (key: string) => ({ pk: key }),
  /** Cache keys are sha256 hex, so no entry is named `stats` or `stats#…`. */
  stats: { pk: 'stats' },
  /** One principal's counts. */
  statsOf: (principal: string) => ({ pk: `stats#${principal}` }),
};

export const slotKeys = {
  pk: (key: string) => `slot#${key}`,
  slot: (key: string, n: number): Key => ({ pk: `slot#${key}`, sk: String(n) }),
};
