// DynamoResponseStore against a real (embedded) dynalite: no fakes.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { DynamoResponseStore } from '../../shared/adapters/dynamo/responses.ts';
import { countCalls, type CallCounter } from '../helpers/count-calls.ts';
import { systemClock, type NewStoredResponse, type StoredResponse } from '../../shared/ports.ts';
import type { Services } from '../../shared/service/context.ts';
import { sweepOrphans } from '../../shared/service/sweep.ts';
import { newId } from '../../shared/protocol/ids.ts';
import { newResponseObject } from '../../shared/protocol/response.ts';
import type { InputItem, ResponseStatus } from '../../shared/protocol/types.ts';

const OWNER = 'alice';
const nowSec = () => Math.floor(Date.now() / 1000);

function newRecord(opts: { status?: ResponseStatus; input?: InputItem[]; updatedAt?: number; createdAt?: number; text?: string } = {}): NewStoredResponse {
  const id = newId('resp');
  const status = opts.status ?? 'completed';
  const output = opts.text === undefined ? [] : [{
    type: 'message' as const, id: newId('msg'), role: 'assistant' as const, status: 'completed' as const,
    content: [{ type: 'output_text' as const, text: opts.text, annotations: [], logprobs: [] }],
  }];
  return {
    id,
    owner: OWNER,
    response: newResponseObject({ id, model: 'm', createdAt: opts.createdAt ?? nowSec(), status, output }),
    input: opts.input ?? [{ type: 'message', role: 'user', id: newId('msg'), content: `hello ${id}` }],
    endpoint: null,
    updatedAt: opts.updatedAt ?? Date.now(),
  };
}

let local: LocalDynamo;
let doc: DynamoDBDocumentClient;
let store: DynamoResponseStore;
let calls: CallCounter;
const table = () => local.tables.responses;

async function itemsIn(id: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do { // a Query page stops at 1 MB read, even for COUNT
    const out = await doc.send(new QueryCommand({
      TableName: table(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': id },
      Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: startKey,
    }));
    count += out.Count ?? 0;
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return count;
}

async function metaItem(id: string) {
  return (await doc.send(new GetCommand({ TableName: table(), Key: { pk: id, sk: 'r' }, ConsistentRead: true }))).Item;
}

/** Creates `n` records, each continuing the previous one; returns them oldest first. */
async function makeChain(n: number, first: StoredResponse | null = null, mk = () => newRecord()): Promise<StoredResponse[]> {
  const chain: StoredResponse[] = [];
  let parent = first;
  for (let i = 0; i < n; i++) {
    const rec = mk();
    await store.create(rec, parent);
    parent = (await store.get(rec.id, OWNER))!;
    chain.push(parent);
  }
  return chain;
}

const bigDataUrl = () => `data:image/png;base64,${randomBytes(1_500_000).toString('base64')}`; // 2 MB, barely compresses

beforeAll(async () => {
  local = await startDynalite({});
  doc = DynamoDBDocumentClient.from(local.client);
  calls = countCalls(local.client);
  store = new DynamoResponseStore(doc, table());
});
afterAll(async () => { await local?.close(); });

describe('create / get', () => {
  it('round-trips a record', async () => {
    const rec = newRecord({ text: 'hi there' });
    await store.create(rec, null);
    const got = await store.get(rec.id, OWNER);
    expect(got).toEqual({ ...rec, ancestors: [], lease: null, lastSeq: -1, expiresAt: rec.response.created_at + 30 * 24 * 3600 });
    expect(JSON.parse(JSON.stringify(got))).toEqual(got); // nothing hidden leaks into JSON
  });

  it('get is one round trip for a small record', async () => {
    const rec = newRecord();
    await store.create(rec, null);
    calls.reset();
    await store.get(rec.id, OWNER);
    expect(calls.byCommand).toEqual({ Query: 1 });
  });

  it('progress: status and last sequence number in one GetItem of the meta item, whatever the blobs; null when missing or expired', async () => {
    const big = `data:image/png;base64,${Buffer.alloc(600_000, 1).toString('base64')}`;
    const rec = { ...newRecord({ status: 'in_progress', input: [{ type: 'message', role: 'user', id: newId('msg'), content: [{ type: 'input_image', image_url: big, detail: 'auto' }] }] }), lastSeq: 7 };
    await store.create(rec, null);
    calls.reset();
    expect(await store.progress(rec.id)).toEqual({ status: 'in_progress', lastSeq: 7 });
    expect(calls.byCommand).toEqual({ GetItem: 1 });
    expect(await store.progress(newId('resp'))).toBeNull();
    const short = new DynamoResponseStore(doc, table(), { ttlSeconds: 60 });
    const old = newRecord({ createdAt: nowSec() - 3600 });
    await short.create(old, null);
    expect(await short.progress(old.id)).toBeNull();
  });

  it('refuses a duplicate id', async () => {
    const rec = newRecord();
    await store.create(rec, null);
    await expect(store.create(rec, null)).rejects.toThrow();
  });

  it('hides a record from another owner', async () => {
    const rec = newRecord();
    await store.create(rec, null);
    expect(await store.get(rec.id, 'mallory')).toBeNull();
    expect(await store.getChain(rec.id, 'mallory')).toBeNull();
    expect(await store.delete(rec.id, 'mallory')).toBe(false);
    expect(await store.get(rec.id, OWNER)).not.toBeNull();
  });

  it('returns null for a missing id', async () => {
    expect(await store.get(newId('resp'), OWNER)).toBeNull();
    expect(await store.getChain(newId('resp'), OWNER)).toBeNull();
  });

  it('treats an expired record as gone (TTL deletes late, or never in dynalite)', async () => {
    const short = new DynamoResponseStore(doc, table(), { ttlSeconds: 60 });
    const rec = newRecord({ createdAt: nowSec() - 3600 });
    await short.create(rec, null);
    expect(await metaItem(rec.id)).toBeDefined();
    expect(await short.get(rec.id, OWNER)).toBeNull();
    expect(await short.getChain(rec.id, OWNER)).toBeNull();
    expect(await short.delete(rec.id, OWNER)).toBe(false);
  });

  it('keeps records forever with ttlSeconds null', async () => {
    const forever = new DynamoResponseStore(doc, table(), { ttlSeconds: null });
    const rec = newRecord({ createdAt: 0 });
    await forever.create(rec, null);
    expect((await forever.get(rec.id, OWNER))?.expiresAt).toBeNull();
    expect((await metaItem(rec.id))?.expires_at).toBeUndefined();
  });

  it('stores a 2 MB random data-URL input byte-identical', async () => {
    const url = bigDataUrl();
    const input: InputItem[] = [{
      type: 'message', role: 'user', id: newId('msg'),
      content: [{ type: 'input_text', text: 'what is this?' }, { type: 'input_image', image_url: url, detail: 'auto' }],
    }];
    const rec = newRecord({ input });
    await store.create(rec, null);
    expect(await itemsIn(rec.id)).toBeGreaterThan(4); // split into parts
    const got = await store.get(rec.id, OWNER);
    expect((got!.input[0]!.content as Array<{ image_url?: string }>)[1]!.image_url).toBe(url);
    expect(got!.input).toEqual(input);
  });
});

describe('update', () => {
  it('fails on a wrong `from` and leaves the record unchanged', async () => {
    const rec = newRecord({ status: 'completed', text: 'done' });
    await store.create(rec, null);
    const next = { ...rec.response, status: 'cancelled' as const };
    expect(await store.update(rec.id, next, { from: ['queued', 'in_progress'] })).toBe(false);
    expect(await store.get(rec.id, OWNER)).toMatchObject({ response: rec.response, updatedAt: rec.updatedAt });
    expect(await store.update(newId('resp'), next, { from: ['completed'] })).toBe(false);
  });

  it('replaces the response, bumps updatedAt, sets endpoint, and drops `active` when terminal', async () => {
    const rec = newRecord({ status: 'queued', updatedAt: 1 });
    await store.create(rec, null);
    expect((await metaItem(rec.id))?.active).toBe('1');

    const running = { ...rec.response, status: 'in_progress' as const };
    expect(await store.update(rec.id, running, { from: ['queued'], endpoint: 'http://e1' })).toBe(true);
    let got = await store.get(rec.id, OWNER);
    expect(got).toMatchObject({ response: running, endpoint: 'http://e1' });
    expect(got!.updatedAt).toBeGreaterThan(1);
    expect((await metaItem(rec.id))?.active).toBe('1');

    const done = newResponseObject({ id: rec.id, model: 'm', createdAt: rec.response.created_at, status: 'completed' });
    expect(await store.update(rec.id, done, { from: ['in_progress'] })).toBe(true);
    got = await store.get(rec.id, OWNER);
    expect(got).toMatchObject({ response: done, endpoint: 'http://e1', input: rec.input });
    expect((await metaItem(rec.id))?.active).toBeUndefined();
  });

  it('stores a 1.5 MB output through update and drops the previous generation', async () => {
    const rec = newRecord({ status: 'in_progress' });
    await store.create(rec, null);
    const text = randomBytes(750_000).toString('hex'); // 1.5 MB; compresses to about half
    const big = newResponseObject({
      id: rec.id, model: 'm', createdAt: rec.response.created_at, status: 'in_progress',
      output: [{ type: 'message', id: newId('msg'), role: 'assistant', status: 'in_progress', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }],
    });
    expect(await store.update(rec.id, big, { from: ['in_progress'] })).toBe(true);
    const partsFirst = (await itemsIn(rec.id)) - 1;
    expect(partsFirst).toBeGreaterThan(1);
    expect((await store.get(rec.id, OWNER))!.response).toEqual(big);

    const bigger = { ...big, status: 'completed' as const, output_text: text };
    expect(await store.update(rec.id, bigger, { from: ['in_progress'] })).toBe(true);
    expect((await store.get(rec.id, OWNER))!.response).toEqual(bigger);
    expect(await itemsIn(rec.id)).toBeGreaterThan(partsFirst); // new generation only: old one removed
    expect(await itemsIn(rec.id)).toBeLessThan(2 * partsFirst + 1);

    const small = { ...bigger, output: [], output_text: '' };
    expect(await store.update(rec.id, small, { from: ['completed'] })).toBe(true);
    expect(await itemsIn(rec.id)).toBe(1); // back inline, all parts gone
    expect((await store.get(rec.id, OWNER))!.response).toEqual(small);
  });
});

describe('claim (a worker taking a queued record for its execution)', () => {
  it('claims a queued record in one UpdateItem; another execution cannot; the same one can again', async () => {
    const rec = { ...newRecord({ status: 'queued', updatedAt: 1 }), lastSeq: 1 };
    await store.create(rec, null);
    calls.reset();
    const claimed = await store.claim(rec.id, 'exec-1');
    expect(calls.byCommand).toEqual({ UpdateItem: 1 });
    expect(claimed).toMatchObject({ id: rec.id, owner: OWNER, lease: 'exec-1', lastSeq: 1, input: rec.input, response: { ...rec.response, status: 'in_progress' } });
    expect((claimed as StoredResponse).updatedAt).toBeGreaterThan(1);
    // Read back, the record is in_progress (the meta item's status, though the blob was not rewritten).
    expect((await store.getAny(rec.id))).toMatchObject({ lease: 'exec-1', response: { status: 'in_progress' } });
    expect((await store.get(rec.id, OWNER))!.response.status).toBe('in_progress');
    expect((await metaItem(rec.id))?.active).toBe('1');

    expect(await store.claim(rec.id, 'exec-2')).toBe('not_claimed');
    expect((await store.getAny(rec.id))!.lease).toBe('exec-1');
    expect(await store.claim(rec.id, 'exec-1')).toMatchObject({ lease: 'exec-1', response: { status: 'in_progress' } });
  });

  it('refuses a cancelled record with its status, a missing or expired one as missing', async () => {
    const rec = newRecord({ status: 'queued' });
    await store.create(rec, null);
    expect(await store.update(rec.id, { ...rec.response, status: 'cancelled' }, { from: ['queued'] })).toBe(true);
    expect(await store.claim(rec.id, 'exec-1')).toBe('cancelled');
    expect((await store.getAny(rec.id))).toMatchObject({ lease: null, response: { status: 'cancelled' } });

    expect(await store.claim(newId('resp'), 'exec-1')).toBe('missing');
    expect(await store.getAny(newId('resp'))).toBeNull(); // (and the claim created no item)
    const short = new DynamoResponseStore(doc, table(), { ttlSeconds: 60 });
    const old = newRecord({ status: 'queued', createdAt: nowSec() - 3600 });
    await short.create(old, null);
    expect(await short.claim(old.id, 'exec-1')).toBe('missing');
    expect((await metaItem(old.id))?.status).toBe('queued');
  });

  it('a large record (its input in parts) comes back whole, in a second round trip', async () => {
    const url = bigDataUrl();
    const input: InputItem[] = [{ type: 'message', role: 'user', id: newId('msg'), content: [{ type: 'input_image', image_url: url, detail: 'auto' }] }];
    const rec = newRecord({ status: 'queued', input });
    await store.create(rec, null);
    expect(await itemsIn(rec.id)).toBeGreaterThan(4);
    calls.reset();
    const claimed = await store.claim(rec.id, 'exec-1') as StoredResponse;
    expect(calls.byCommand).toEqual({ UpdateItem: 1, BatchGetItem: expect.any(Number) });
    expect(claimed.input).toEqual(input);
    expect(claimed.response.status).toBe('in_progress');
  });
});

describe('getChain', () => {
  it('reads a 50-turn chain in exactly 2 round trips, oldest first', async () => {
    const chain = await makeChain(50);
    const last = chain[chain.length - 1]!;
    expect(last.ancestors).toHaveLength(49);
    calls.reset();
    const got = await store.getChain(last.id, OWNER);
    expect(calls.byCommand).toEqual({ Query: 1, BatchGetItem: 1 });
    expect(got!.map((r) => r.id)).toEqual(chain.map((r) => r.id));
    expect(got).toEqual(chain);
  });

  it('reads chains with large inputs and outputs, in one Query and one parallel batch', async () => {
    const root = newRecord({ input: [{ type: 'message', role: 'user', content: [{ type: 'input_image', image_url: bigDataUrl() }] }] });
    await store.create(root, null);
    const rootStored = (await store.get(root.id, OWNER))!;
    const chain = [rootStored, ...await makeChain(3, rootStored, () => newRecord({ text: randomBytes(300_000).toString('hex') }))];
    const leaf = newRecord({ input: [{ type: 'message', role: 'user', content: [{ type: 'input_image', image_url: bigDataUrl() }] }] });
    await store.create(leaf, chain[chain.length - 1]!);
    chain.push((await store.get(leaf.id, OWNER))!);

    calls.reset();
    const got = await store.getChain(leaf.id, OWNER);
    expect(calls.byCommand.Query).toBe(1);
    expect(calls.byCommand.GetItem).toBeUndefined();
    expect(got).toEqual(chain);
  });

  it('gives each fork its own chain', async () => {
    const base = await makeChain(3);
    const parent = base[2]!;
    const [a] = await makeChain(1, parent);
    const [b1, b2] = await makeChain(2, parent);
    expect((await store.getChain(a!.id, OWNER))!.map((r) => r.id)).toEqual([...base, a].map((r) => r!.id));
    expect((await store.getChain(b2!.id, OWNER))!.map((r) => r.id)).toEqual([...base, b1, b2].map((r) => r!.id));
  });

  it('leaves out deleted and expired ancestors', async () => {
    const chain = await makeChain(4);
    expect(await store.delete(chain[1]!.id, OWNER)).toBe(true);
    expect((await store.getChain(chain[3]!.id, OWNER))!.map((r) => r.id)).toEqual([chain[0]!.id, chain[2]!.id, chain[3]!.id]);

    const short = new DynamoResponseStore(doc, table(), { ttlSeconds: 60 });
    const old = newRecord({ createdAt: nowSec() - 3600 });
    await short.create(old, null);
    const oldStored: StoredResponse = { ...old, ancestors: [], expiresAt: null, lease: null, lastSeq: -1 }; // a caller-built parent (no hidden ref)
    const child = newRecord();
    await short.create(child, oldStored);
    expect((await short.getChain(child.id, OWNER))!.map((r) => r.id)).toEqual([child.id]);
  });

  it('follows an ancestor whose large output was rewritten after the chain was made', async () => {
    const text = (n: number) => randomBytes(n).toString('hex');
    const parentRec = newRecord({ text: text(300_000) });
    await store.create(parentRec, null);
    const [child] = await makeChain(1, (await store.get(parentRec.id, OWNER))!);
    const rewritten = { ...parentRec.response, metadata: { v: '2' }, output_text: text(300_000) };
    expect(await store.update(parentRec.id, rewritten, { from: ['completed'] })).toBe(true);
    calls.reset();
    const got = await store.getChain(child!.id, OWNER);
    expect(got!.map((r) => r.response)).toEqual([rewritten, child!.response]);
    expect(calls.byCommand.Query).toBe(2); // the rare third round trip: that ancestor re-read
  });
});

describe('delete', () => {
  it('removes the meta item and every part, then reads as missing', async () => {
    const rec = newRecord({ input: [{ type: 'message', role: 'user', content: [{ type: 'input_image', image_url: bigDataUrl() }] }], status: 'in_progress' });
    await store.create(rec, null);
    const out = { ...rec.response, status: 'completed' as const, output_text: randomBytes(300_000).toString('hex') };
    expect(await store.update(rec.id, out, { from: ['in_progress'] })).toBe(true);
    expect(await itemsIn(rec.id)).toBeGreaterThan(5);

    expect(await store.delete(rec.id, OWNER)).toBe(true);
    expect(await itemsIn(rec.id)).toBe(0);
    expect(await store.get(rec.id, OWNER)).toBeNull();
    expect(await store.delete(rec.id, OWNER)).toBe(false);
  });
});

describe('sweepOrphans (spec: fail_orphaned_responses): the service over this store', () => {
  const sweep = () => sweepOrphans({ store, clock: systemClock, config: { orphanAfterMs: 60_000 } } as unknown as Services);
  it('fails a stale in_progress record, keeps a fresh one, ignores a terminal one', async () => {
    const orphan = newRecord({ status: 'in_progress', updatedAt: 0 });
    const fresh = newRecord({ status: 'in_progress' });
    const revived = newRecord({ status: 'queued', updatedAt: 0 });
    const done = newRecord({ status: 'completed', updatedAt: 0 });
    for (const r of [orphan, fresh, revived, done]) await store.create(r, null);
    // A live writer bumps the heartbeat before the sweep: it must not be failed.
    expect(await store.update(revived.id, { ...revived.response, status: 'in_progress' }, { from: ['queued'] })).toBe(true);

    calls.reset();
    const n = await sweep();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(calls.byCommand.Scan).toBeUndefined();

    const got = (await store.get(orphan.id, OWNER))!;
    expect(got.response.status).toBe('failed');
    expect(got.response.completed_at).toBeNull();
    expect(got.response.error).toEqual({ code: 'server_error', message: expect.stringMatching(/^The response was abandoned: no progress was recorded for \d+ seconds/) });
    expect((await metaItem(orphan.id))?.active).toBeUndefined();
    expect(got.input).toEqual(orphan.input);

    expect((await store.get(fresh.id, OWNER))!.response.status).toBe('in_progress');
    expect((await store.get(revived.id, OWNER))!.response.status).toBe('in_progress');
    expect(await store.get(done.id, OWNER)).toMatchObject({ response: done.response, updatedAt: 0 });

    expect(await sweep()).toBe(0); // already failed: not again
  });
});

describe('persistence', () => {
  it('reads back after a restart on the same LevelDB path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dynalite-'));
    try {
      const rec = newRecord({ text: 'kept' });
      const first = await startDynalite({ path: join(dir, 'db') });
      await new DynamoResponseStore(DynamoDBDocumentClient.from(first.client), first.tables.responses).create(rec, null);
      await first.close();

      const second = await startDynalite({ path: join(dir, 'db') });
      try {
        const again = new DynamoResponseStore(DynamoDBDocumentClient.from(second.client), second.tables.responses);
        expect(await again.get(rec.id, OWNER)).toMatchObject({ id: rec.id, response: rec.response, input: rec.input });
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
