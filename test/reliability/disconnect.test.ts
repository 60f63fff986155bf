// Abandoned work holds no capacity (issue 14, point 3), through the local server (the real
// handler over HTTP, dynalite, the local workflow runner, a fake Ollama upstream that records
// when each of its requests was closed):
//
//   - A foreground request whose client leaves is stopped at once when it is not stored (JSON or
//     stream): its upstream request is closed and its concurrency slot is free for the next caller.
//   - A stored one runs to its end and is stored (on_client_disconnect: finish_stored, the
//     default), or is stopped and stored failed (abort).
//   - DELETE stops what it removes: a stored stream in progress stops at its next heartbeat, a
//     background job at its next write.
//   - A live reader of a background log stops polling when its client leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countCalls } from '../helpers/count-calls.ts';
import type { FakeUpstream, RecordedRequest } from '../helpers/fake-upstream.ts';
import { startSystem, type System } from '../helpers/harness.ts';
import { countStored, create, openStream, sleep, waitFor, waitTerminal } from './system.ts';

const model = 'llama3.2';
const SETTINGS = [
  'max_concurrent_connections: 1',
  'slot_wait_ms: 3000',
  'slot_lease_ms: 1500',
  'heartbeat_ms: 100',
  'flush_ms: 20',
  'poll_ms: 50',
  'orphan_after_ms: 60000',
  'sweep_interval_ms: 3600000',
  'max_attempts: 1',
].join('\n');

/** The upstream's chat requests, newest last. */
const chats = (up: FakeUpstream) => up.requests.filter((r) => r.path === '/v1/chat/completions');

/** Waits for the upstream to receive its next chat request and returns it. */
async function nextChat(up: FakeUpstream, before: number): Promise<RecordedRequest> {
  const list = await waitFor(async () => chats(up), (l) => l.length > before, 10_000);
  expect(list.length).toBeGreaterThan(before);
  return list[before]!;
}

/** How long after `t0` the upstream saw its request closed (-1: still open after 10 s). */
async function closedWithin(rec: RecordedRequest, t0: number): Promise<number> {
  await waitFor(async () => rec.closedAt, (t) => t !== undefined, 10_000);
  return rec.closedAt === undefined ? -1 : rec.closedAt - t0;
}

/**
 * The live readers' clients leave: the DynamoDB reads (Query, GetItem) of the second after they
 * settled. Readers still polling every 50 ms would make hundreds.
 */
async function readsAfterLeaving(sys: System, readers: AbortController[], bodies: Array<Promise<void>>): Promise<number> {
  for (const c of readers) c.abort();
  await Promise.allSettled(bodies);
  await sleep(300);
  const calls = countCalls(sys.gw.dynamo.client);
  await sleep(1_000);
  return (calls.byCommand.Query ?? 0) + (calls.byCommand.GetItem ?? 0);
}

describe('on_client_disconnect: finish_stored (the default)', () => {
  let sys: System;
  let up: FakeUpstream;
  beforeAll(async () => {
    sys = await startSystem({ extraConfig: SETTINGS });
    up = sys.upstreams[0]!;
  });
  afterAll(() => sys?.close(), 30_000);

  for (const stream of [false, true]) {
    it(`store: false, ${stream ? 'stream' : 'JSON'}: the client leaves, the upstream is closed and the slot is free for the next caller`, async () => {
      const before = chats(up).length;
      up.script({ hang: true }, { text: 'the next caller is served' });
      const client = new AbortController();
      const left = create(sys.base, { model, input: 'hang', store: false, stream }, client.signal).catch(() => 'left');
      const hung = await nextChat(up, before);
      const t0 = Date.now();
      client.abort();
      expect(await left).toBe('left');
      // One slot, held by the request that was left: the next caller gets it at once (before, the
      // slot stayed taken until the upstream time-out, and the next caller got 429 after slot_wait_ms).
      const next = await create(sys.base, { model, input: 'next', store: false });
      const ms = await closedWithin(hung, t0);
      console.log(JSON.stringify({ case: `store:false ${stream ? 'stream' : 'JSON'}, client left`, upstream_closed_after_ms: ms }));
      expect(next.status).toBe(200);
      expect(hung.aborted).toBe(true);
      expect(next.json.output_text).toBe('the next caller is served');
    });
  }

  it('store: true, JSON: the client leaves, the answer is still generated and stored', async () => {
    const stored = await countStored(sys.gw.dynamo);
    const before = chats(up).length;
    up.script({ text: 'kept for later', delayMs: 300 });
    const client = new AbortController();
    const left = create(sys.base, { model, input: 'leave me', store: true }, client.signal).catch(() => 'left');
    const rec = await nextChat(up, before);
    client.abort();
    expect(await left).toBe('left');
    await waitFor(async () => rec.closedAt, (t) => t !== undefined, 10_000);
    expect(rec.aborted).toBe(false);
    expect(await waitFor(() => countStored(sys.gw.dynamo), (n) => n === stored + 1, 5_000)).toBe(stored + 1);
  });

  it('DELETE of a stored stream in progress stops its generation at the next heartbeat', async () => {
    const before = chats(up).length;
    up.script({ text: 'x'.repeat(400), chunkSize: 2, chunkDelayMs: 25 });
    const s = await openStream(sys.base, { model, input: 'delete me while you write' }, (t) => t.includes('output_text.delta'));
    const rec = await nextChat(up, before);
    const t0 = Date.now();
    expect((await fetch(`${sys.base}/responses/${s.id}`, { method: 'DELETE' })).status).toBe(200);
    const text = await s.rest();
    const ms = await closedWithin(rec, t0);
    console.log(JSON.stringify({ case: 'DELETE of a stored stream in progress', upstream_closed_after_ms: ms }));
    expect(rec.aborted).toBe(true); // 200 chunks at 25 ms would have taken 5 s
    const failed = text.split('\n\n').filter((f) => f.includes('"type":"response.failed"'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/deleted/);
    expect((await fetch(`${sys.base}/responses/${s.id}`)).status).toBe(404); // and it stays deleted
  });

  it('DELETE of a background job in progress stops its worker and its upstream request', async () => {
    const before = chats(up).length;
    up.script({ text: 'y'.repeat(400), chunkSize: 2, chunkDelayMs: 25 });
    const queued = await create(sys.base, { model, input: 'background, then deleted', background: true });
    expect(queued.status).toBe(200);
    const rec = await nextChat(up, before);
    await sleep(100);
    const t0 = Date.now();
    expect((await fetch(`${sys.base}/responses/${queued.json.id}`, { method: 'DELETE' })).status).toBe(200);
    const ms = await closedWithin(rec, t0);
    console.log(JSON.stringify({ case: 'DELETE of a background job in progress', upstream_closed_after_ms: ms }));
    expect(rec.aborted).toBe(true);
  });

  it('live readers of a background log stop polling when their clients leave', async () => {
    const before = chats(up).length;
    up.script({ hang: true }); // the job waits for its first byte: its log stays quiet
    const job = await create(sys.base, { model, input: 'a quiet job', background: true });
    await nextChat(up, before);
    const readers = Array.from({ length: 20 }, () => new AbortController());
    const bodies = readers.map(async (c) => {
      const res = await fetch(`${sys.base}/responses/${job.json.id}?stream=true`, { signal: c.signal });
      const reader = res.body!.getReader();
      for (;;) if ((await reader.read()).done) break;
    });
    await sleep(500); // they poll
    const reads = await readsAfterLeaving(sys, readers, bodies);
    console.log(JSON.stringify({ case: '20 live readers left', dynamodb_reads_in_the_next_second: reads }));
    // 20 readers polling every 50 ms would make hundreds of reads a second; the job's own
    // heartbeat writes are not reads.
    expect(reads).toBeLessThan(5);
    expect((await fetch(`${sys.base}/responses/${job.json.id}/cancel`, { method: 'POST' })).status).toBe(200);
    expect((await waitTerminal(sys.base, job.json.id)).status).toBe('cancelled');
  });
});

describe('live readers of a background job created with stream: true', () => {
  let sys: System;
  let up: FakeUpstream;
  beforeAll(async () => {
    sys = await startSystem({ extraConfig: SETTINGS });
    up = sys.upstreams[0]!;
  });
  afterAll(() => sys?.close(), 30_000);

  it('stop polling when their clients leave; the jobs run on', async () => {
    const before = chats(up).length;
    up.script({ hang: true }, { hang: true }, { hang: true }, { hang: true }, { hang: true }); // quiet logs
    const readers = Array.from({ length: 5 }, () => new AbortController());
    const ids: string[] = [];
    const bodies = readers.map(async (c) => {
      const res = await fetch(`${sys.base}/responses`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, signal: c.signal,
        body: JSON.stringify({ model, input: 'a quiet job, streamed', background: true, stream: true }),
      });
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const id = /"id":"(resp_[0-9a-f]+)"/.exec(Buffer.from(value).toString('utf8'))?.[1];
        if (id && !ids.includes(id)) ids.push(id);
      }
    });
    await waitFor(async () => chats(up).length, (n) => n >= before + 5, 10_000);
    await sleep(300); // they poll
    const reads = await readsAfterLeaving(sys, readers, bodies);
    console.log(JSON.stringify({ case: '5 POST stream readers of background jobs left', dynamodb_reads_in_the_next_second: reads }));
    expect(reads).toBeLessThan(5);
    // Leaving stopped the readers, not the jobs.
    expect(ids).toHaveLength(5);
    for (const id of ids) expect((await (await fetch(`${sys.base}/responses/${id}`)).json()).status).toBe('in_progress');
    for (const id of ids) expect((await fetch(`${sys.base}/responses/${id}/cancel`, { method: 'POST' })).status).toBe(200);
  });
});

describe('on_client_disconnect: abort', () => {
  let sys: System;
  let up: FakeUpstream;
  beforeAll(async () => {
    sys = await startSystem({ extraConfig: `${SETTINGS}\non_client_disconnect: abort` });
    up = sys.upstreams[0]!;
  });
  afterAll(() => sys?.close(), 30_000);

  it('store: true, stream: the client leaves, the upstream is closed and the response is stored failed', async () => {
    const before = chats(up).length;
    up.script({ text: 'z'.repeat(400), chunkSize: 2, chunkDelayMs: 25 });
    const s = await openStream(sys.base, { model, input: 'leave, and stop' }, (t) => t.includes('output_text.delta'));
    const rec = await nextChat(up, before);
    const t0 = Date.now();
    s.drop();
    const ms = await closedWithin(rec, t0);
    console.log(JSON.stringify({ case: 'store:true stream, client left, abort', upstream_closed_after_ms: ms }));
    expect(rec.aborted).toBe(true);
    const final = await waitTerminal(sys.base, s.id);
    expect(final.status).toBe('failed');
    expect(final.error.message).toMatch(/client disconnected/);
  });
});
