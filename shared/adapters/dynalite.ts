// The embedded DynamoDB stand-in for `npm start` and tests: dynalite on loopback, in memory or
// on LevelDB under a directory, with the tables of dynamo/layout.ts created if missing.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException, ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { TABLES, createTableInput, tableNames, type TableKey } from './dynamo/layout.ts';

// dynalite is CommonJS without types; createRequire keeps this module ESM and typed here.
type DynaliteOptions = {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
};
const dynalite = createRequire(import.meta.url)('dynalite') as (opts: DynaliteOptions) => Server;

export interface LocalDynamo {
  endpoint: string;
  /** In-process when this process runs the dynalite (see inProcessClient), else over HTTP. */
  client: DynamoDBClient;
  /** Table names (the logical names: layout.ts tableNames). */
  tables: Record<TableKey, string>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** LevelDB directory for persistence (created if missing); omit for in-memory. */
  path?: string;
  /** Port on 127.0.0.1 (default: any free one). A restart on the same port and path resumes
   * service for clients still pointed at the old endpoint. */
  port?: number;
}

/** A DynamoDB client for a local endpoint: dummy credentials, no long retry loops. */
export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  });
}

/** The parts of a smithy HttpRequest / HttpResponse this transport reads and makes. */
interface SdkHttpRequest { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string>; body?: unknown }
interface SdkHttpResponse { statusCode: number; reason?: string; headers: Record<string, string>; body: Uint8Array }

/**
 * A DynamoDB client for the dynalite running in this very process: the SDK's whole stack
 * (serialization, retries, error parsing: what runs against DynamoDB) with the HTTP hop replaced
 * by a call to dynalite's request handler. Over loopback, the HTTP client and server on both
 * sides and the request signing cost more CPU than dynalite itself; here they cost nothing.
 * dynalite checks only that a request looks signed, so it is not signed, just labelled as such.
 */
function inProcessClient(listener: RequestListener): DynamoDBClient {
  const requestHandler = {
    handle: (request: SdkHttpRequest): Promise<{ response: SdkHttpResponse }> => new Promise((resolve, reject) => {
      const headers: Record<string, string> = { authorization: UNSIGNED, 'x-amz-date': '20260101T000000Z' };
      for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v;
      const req = Object.assign(new EventEmitter(), { method: request.method, url: request.path, headers });
      const out: Record<string, string> = {};
      const res = {
        statusCode: 200,
        setHeader: (k: string, v: unknown) => { out[k.toLowerCase()] = String(v); },
        end: (body?: string) => resolve({ response: { statusCode: res.statusCode, headers: out, body: Buffer.from(body ?? '') } }),
      };
      try {
        listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
        const body = request.body;
        // Not Buffer.from(body): the SDK's body is a Uint8Array whose valueOf() is deprecated.
        if (body instanceof Uint8Array) req.emit('data', Buffer.from(body.buffer, body.byteOffset, body.byteLength));
        else if (typeof body === 'string') req.emit('data', Buffer.from(body));
        req.emit('end');
      } catch (err) {
        reject(err);
      }
    }),
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
    destroy: () => {},
  };
  return new DynamoDBClient({
    region: 'local',
    endpoint: 'http://dynalite.in-process',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
    requestHandler,
    // No signature: dynalite does not check one (UNSIGNED above satisfies its format check).
    httpAuthSchemes: [{ schemeId: 'aws.auth#sigv4', identityProvider: () => async () => ({}), signer: { sign: async (r: unknown) => r } }],
  } as NonNullable<ConstructorParameters<typeof DynamoDBClient>[0]>);
}
const UNSIGNED = 'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Counts the requests dynalite is working on, until it answers (over HTTP and in process alike:
 * both go through its request listener, which this wraps). Closed under one, LevelDB throws from
 * one of dynalite's timers: an uncaught exception in whatever process runs it (a test that
 * stops DynamoDB mid-query, npm start stopping while a reader polls). `settled(ms)` resolves when
 * none is left, or after `ms`.
 */
function trackRequests(server: Server): { listener: RequestListener; settled(ms: number): Promise<void> } {
  const listener = server.listeners('request')[0] as RequestListener;
  let working = 0;
  const waiting = new Set<() => void>();
  server.removeAllListeners('request');
  const counted: RequestListener = (req, res) => {
    working++;
    const end = res.end;
    let answered = false;
    res.end = function (this: ServerResponse, ...args: unknown[]) {
      if (!answered) {
        answered = true;
        if (--working === 0) for (const wake of waiting) wake();
      }
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['end'];
    listener(req, res);
  };
  server.on('request', counted);
  return {
    listener: counted,
    settled: (ms) => (working === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const done = () => { clearTimeout(timer); waiting.delete(done); resolve(); };
      const timer = setTimeout(done, ms);
      waiting.add(done);
    })),
  };
}

export async function startDynalite(opts: StartOptions = {}): Promise<LocalDynamo> {
  // Zero delays: tables become ACTIVE at once instead of after dynalite's default 500 ms.
  const server = dynalite({ path: opts.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // Node's 5 s default closes pooled client sockets while the SDK may be reusing them; on a busy
  // loop the client sees the FIN late and its request gets ECONNRESET (a 500 for our caller).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const requests = trackRequests(server);
  const client = inProcessClient(requests.listener); // counted too

  const close = async () => {
    client.destroy(); // drops keep-alive sockets, which would otherwise hold server.close open
    server.closeAllConnections();
    await requests.settled(2_000); // what dynalite is doing finishes before its LevelDB closes
    // dynalite's close also closes LevelDB, releasing its lock so the path can be reopened.
    if (!server.listening) return; // already closed: closing twice is not an error
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  };

  const tables = tableNames();
  try {
    for (const key of Object.keys(TABLES) as TableKey[]) await ensureTable(client, key, tables[key]);
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  return { endpoint, client, tables, close };
}

/** Creates the table unless it exists (a restart on the same path finds it), then waits for ACTIVE. */
async function ensureTable(client: DynamoDBClient, key: TableKey, name: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(TABLES[key], name)));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  for (let i = 0; i < 100; i++) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    await sleep(10);
  }
  throw new Error(`dynalite: table ${name} did not become ACTIVE`);
}
