// The tables, as plain data: the local stand-in (dynalite) creates them from here and the CDK
// stack maps the same data onto `aws_dynamodb.TableV2`. Field names and values follow CDK's
// (AttributeType 'S'|'N'|'B', ProjectionType 'KEYS_ONLY'|'INCLUDE'|'ALL') so the mapping is 1:1.
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
  /** Logical name; the physical name is chosen by the caller (prefix locally, CDK in AWS). */
  name: string;
  partitionKey: KeyDef;
  sortKey?: KeyDef;
  /** Epoch-seconds attribute DynamoDB's TTL deletes by (late: readers check it themselves). */
  timeToLiveAttribute?: string;
  globalSecondaryIndexes: IndexDef[];
}

/** Stored responses: meta item `sk = 'r'` plus blob part items, all in the response's partition. */
export const RESPONSES_TABLE: TableDef = {
  name: 'responses',
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

export const TABLES = { responses: RESPONSES_TABLE } as const;
export type TableKey = keyof typeof TABLES;

/** Physical table names: the logical name behind an optional prefix (e.g. a stage name). */
export function tableNames(prefix = ''): Record<TableKey, string> {
  const out = {} as Record<TableKey, string>;
  for (const key of Object.keys(TABLES) as TableKey[]) out[key] = `${prefix}${TABLES[key].name}`;
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
