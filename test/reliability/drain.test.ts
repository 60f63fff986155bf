// SIGTERM drains `npm start` (issue 14, point 6): no new requests; what is running gets
// shutdown_grace_ms to finish; what is still running then is stopped and ends with its terminal
// event, stored (a stored stream, a background job), so a second process on the same data reads
// it back as failed, saying why. The process then exits 0.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.ts';
import { configYaml, create, expectCleanStream, openStream, retrieve, sleep, startChildGateway, type ChildGateway } from './system.ts';

const GRACE_MS = 1_500;
const model = 'llama3.2';

let up: FakeUpstream;
let dir: string;
let configPath: string;
const children: ChildGateway[] = [];

beforeAll(async () => {
  up = await startFakeUpstream({ flavor: 'ollama' });
  // A short answer for requests that say so; else one that takes 10 s.
  up.fallback = (rec) => (JSON.stringify(rec.body).includes('short')
    ? { text: 'done in time', delayMs: 300 }
    : { text: 'x'.repeat(400), chunkSize: 1, chunkDelayMs: 25 });
  dir = mkdtempSync(join(tmpdir(), 'drain-'));
  configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, configYaml([`"${up.url}"`], {
    shutdown_grace_ms: GRACE_MS, model_list_ttl_ms: 600_000, max_concurrent_connections: 8, heartbeat_ms: 200, flush_ms: 20, poll_ms: 20,
    orphan_after_ms: 60_000, sweep_interval_ms: 3_600_000,
  }));
}, 30_000);

afterAll(async () => {
  for (const c of children) await c.kill('SIGKILL');
  await up?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

it('SIGTERM: new requests are refused, running ones get the grace period, then end with a stored terminal event', async () => {
  const first = await startChildGateway({ configPath, dataDir: join(dir, 'data') });
  children.push(first);
  const base = `${first.url}/v1`;
  const stream = await openStream(base, { model, input: 'a long story' }, (t) => t.includes('output_text.delta'));
  const job = await create(base, { model, input: 'a long background story', background: true });
  expect(job.status).toBe(200);
  await sleep(300); // the job is streaming
  const inTime = create(base, { model, input: 'short' }).catch((err: unknown) => ({ status: -1, json: { error: String(err) } }) as Awaited<ReturnType<typeof create>>);
  await sleep(50);
  const exited = new Promise<number | null>((resolve) => first.proc.once('exit', (code) => resolve(code)));
  const t0 = Date.now();
  first.proc.kill('SIGTERM');
  await sleep(200);

  // No new requests: the port no longer takes connections.
  const late = await fetch(`${base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, input: 'short' }) })
    .then((r) => r.status, () => 'refused');
  expect(late).toBe('refused');

  // A request that finishes within the grace period is answered as usual.
  const answered = await inTime;
  expect(answered.status).toBe(200);
  expect(answered.json.output_text).toBe('done in time');

  // The long stream is stopped after the grace period and ends cleanly, failed, saying why.
  const text = await stream.rest();
  const events = expectCleanStream(text);
  const terminal = events.at(-1)!.data;
  expect(terminal.type).toBe('response.failed');
  expect(terminal.response.error.message).toMatch(/shut down/);
  const code = await Promise.race([exited, sleep(20_000).then(() => 'still running')]);
  console.log(JSON.stringify({ case: 'SIGTERM with a stream, a job and a short request running', grace_ms: GRACE_MS, exit_after_ms: Date.now() - t0, exit_code: code }));
  expect(code).toBe(0);

  // A second process on the same data reads both back as failed, with their terminal events.
  const second = await startChildGateway({ configPath, dataDir: join(dir, 'data') });
  children.push(second);
  const b = `${second.url}/v1`;
  const storedStream = await retrieve(b, stream.id);
  expect(storedStream.json.status).toBe('failed');
  expect(storedStream.json.error).toEqual(terminal.response.error);
  const storedJob = await retrieve(b, job.json.id);
  expect(storedJob.json.status).toBe('failed');
  expect(storedJob.json.error.message).toMatch(/shut down/);
  const replay = expectCleanStream(await (await fetch(`${b}/responses/${job.json.id}?stream=true`)).text());
  expect(replay.at(-1)!.data.type).toBe('response.failed');
  expect(replay.at(-1)!.data.response.error).toEqual(storedJob.json.error);
}, 90_000);

it('npm start publishes its metrics together, at most once a second, and what is left when it stops', async () => {
  const gw = await startChildGateway({ configPath, dataDir: join(dir, 'metrics-data') });
  children.push(gw);
  const answers = await Promise.all(Array.from({ length: 6 }, () => create(`${gw.url}/v1`, { model, input: 'short', store: false })));
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
  const exited = new Promise<number | null>((resolve) => gw.proc.once('exit', (code) => resolve(code)));
  gw.proc.kill('SIGTERM');
  expect(await Promise.race([exited, sleep(20_000).then(() => 'still running')])).toBe(0);
  const emf = gw.stdout().split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const requests = emf.flatMap((l) => (l.Requests === undefined ? [] : [l.Requests].flat() as number[]));
  // Every request counted, though the process stopped within the second; in one or two lines (a
  // second may have begun between the answers), not one per request.
  expect(requests.reduce((a, b) => a + b, 0)).toBe(6);
  expect(emf.filter((l) => l.Requests !== undefined).length).toBeLessThanOrEqual(2);
}, 60_000);
