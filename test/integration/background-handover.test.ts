// A live background stream in the worker's own process (npm start): its reader is handed each
// batch once the record counts it, without waiting for the batch's item to be stored, and never
// before. The worker's event-log PutItems are held (or failed) on the gateway's real DynamoDB
// client, in front of dynalite, to see what the reader gets meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLogKeys } from '../../shared/adapters/dynamo/layout.ts';
import { sseEvents, startSystem, type SseEvent, type System } from '../helpers/harness.ts';

let sys: System;
let up: System['upstreams'][number];
const model = 'test-model';
const OPENING_SK = eventLogKeys.sk(1); // the API's item: response.created and response.queued

/** What the worker's log writes meet: passed on, held until released, or failed. */
let logPuts: { mode: 'pass' } | { mode: 'hold'; released: Promise<void> } | { mode: 'fail' } = { mode: 'pass' };
let heldPuts = 0;

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [{ flavor: 'ollama', models: ['test-model:latest'] }],
    // flush_ms long: the in_progress event goes out with the first output, never in a batch of its
    // own (held, it would hold up the batches after it: flushes are stored in order).
    extraConfig: 'flush_ms: 2000\npoll_ms: 20\nheartbeat_ms: 1000\norphan_after_ms: 60000\nsweep_interval_ms: 3600000',
    retryIntervalMs: 10,
  });
  up = sys.upstreams[0]!;
  // At the build step the document client has marshalled the item: `{ pk: { S } }`.
  sys.gw.dynamo.client.middlewareStack.add((next, context) => async (args) => {
    const item = (args.input as { Item?: Record<string, { S?: string }> }).Item;
    const workerLogPut = context.commandName === 'PutItemCommand' && item?.pk?.S?.endsWith('#ev') && item.sk?.S !== OPENING_SK;
    if (workerLogPut && logPuts.mode === 'fail') throw new Error('event log write refused (test)');
    if (workerLogPut && logPuts.mode === 'hold') {
      heldPuts++;
      // Bounded: a reader that waited for the stored batch gets it after 5 s (and the test fails).
      await Promise.race([logPuts.released, new Promise((r) => setTimeout(r, 5_000))]);
    }
    return next(args);
  }, { step: 'build', name: 'testLogPuts' });
});
afterAll(() => sys.close());

/**
 * Reads SSE events of a streamed create until `until` matches one (or the stream ends). `buf.all`
 * is the whole body so far (checked for conformance with sseEvents once it has ended).
 */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, seen: SseEvent[], buf: { text: string; all: string }, until: (e: SseEvent) => boolean): Promise<SseEvent | null> {
  const dec = new TextDecoder();
  for (;;) {
    const frames = buf.text.split('\n\n');
    buf.text = frames.pop()!;
    for (const [i, frame] of frames.entries()) {
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      if (!data) continue;
      const ev: SseEvent = { event: frame.split('\n').find((l) => l.startsWith('event: '))?.slice(7), data: JSON.parse(data.slice(6)) };
      seen.push(ev);
      if (until(ev)) {
        // The frames after it (the same read may hold several) are left for the next call.
        buf.text = frames.slice(i + 1).map((f) => `${f}\n\n`).join('') + buf.text;
        return ev;
      }
    }
    const { done, value } = await reader.read();
    if (done) return null;
    const text = dec.decode(value, { stream: true });
    buf.text += text;
    buf.all += text;
  }
}

function streamedCreate(input: string) {
  return fetch(`${sys.base}/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, input, background: true, stream: true }),
  });
}

describe('a live background reader in the worker\'s process', () => {
  it('gets the first output as soon as the record counts it, while its batch is still being stored', async () => {
    let release!: () => void;
    logPuts = { mode: 'hold', released: new Promise<void>((r) => { release = r; }) };
    heldPuts = 0;
    try {
      up.script({ deltas: ['early', ' bird', ' done'], chunkDelayMs: 5 });
      const res = await streamedCreate('hold the log');
      const reader = res.body!.getReader();
      const seen: SseEvent[] = [];
      const buf = { text: '', all: '' };
      const delta = await readUntil(reader, seen, buf, (e) => e.event === 'response.output_text.delta');
      const id = seen[0]!.data.response.id as string;
      expect(delta?.data.delta).toBe('early');
      // Not stored yet: the log holds the API's opening events only...
      expect((await sys.gw.svc.events.read(id, -1)).map((e) => e.type)).toEqual(['response.created', 'response.queued']);
      expect(heldPuts).toBeGreaterThan(0);
      // ...but the record counts the event the reader was handed.
      expect((await sys.gw.svc.store.progress(id))!.lastSeq).toBeGreaterThanOrEqual(delta!.data.sequence_number);
      release();
      await readUntil(reader, seen, buf, () => false);
      expect(sseEvents(buf.all).map((e) => e.data)).toEqual(seen.map((e) => e.data));
      expect(seen.map((e) => e.data.sequence_number)).toEqual(seen.map((_, i) => i));
      expect(seen.at(-1)!.event).toBe('response.completed');
      expect(seen.at(-1)!.data.response.output_text).toBe('early bird done');
      // And the log, read by another reader, is whole.
      const replay = sseEvents(await (await fetch(`${sys.base}/responses/${id}?stream=true`)).text());
      expect(replay.map((e) => e.data)).toEqual(seen.map((e) => e.data));
    } finally {
      release();
      logPuts = { mode: 'pass' };
    }
  });

  it('when the batch can never be stored, the job fails and the reader ends with response.failed, after only counted events', async () => {
    logPuts = { mode: 'fail' };
    try {
      up.script({ deltas: ['lost', ' words'], chunkDelayMs: 5 });
      const res = await streamedCreate('fail the log');
      const reader = res.body!.getReader();
      const seen: SseEvent[] = [];
      const buf = { text: '', all: '' };
      await readUntil(reader, seen, buf, () => false); // to its end: the log writes are retried for 5 s
      expect(sseEvents(buf.all).map((e) => e.data)).toEqual(seen.map((e) => e.data));
      const id = seen[0]!.data.response.id as string;
      expect(seen.map((e) => e.data.sequence_number)).toEqual(seen.map((_, i) => i));
      const last = seen.at(-1)!;
      expect(last.event).toBe('response.failed');
      expect(last.data.response.status).toBe('failed');
      expect(last.data.response.error.message).toMatch(/background job failed/);
      // Every event before it is one the record counted.
      const { lastSeq, status } = (await sys.gw.svc.store.progress(id))!;
      expect(status).toBe('failed');
      expect(seen.at(-2)!.data.sequence_number).toBe(lastSeq);
    } finally {
      logPuts = { mode: 'pass' };
    }
  }, 20_000);
});
