// What one request of each kind costs on Lambda, measured under AWS's runtime interface client
// (test/lambda-runtime/: the bundles as `cdk synth` makes them, on Node 24): the peak RSS of a
// fresh function instance serving it (the memory sizes of infra/bundling.ts are chosen from it),
// its CPU time warm, its billed duration, the DynamoDB capacity it consumes (every call of the
// function goes through a proxy that asks dynalite for ConsumedCapacity), and the bytes it logs;
// then the cost of 1 million of them at the configured memory sizes.
// Run: node_modules/.bin/node --import tsx bench/lambda-costs.ts [--quick]   (about 2 minutes; --quick: 3 s instead of 30 s runs)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { FUNCTIONS } from '../infra/bundling.ts';
import { startDynalite } from '../shared/adapters/dynalite.ts';
import { startFakeUpstream, type Reply } from '../test/helpers/fake-upstream.ts';
import { startFakeStepFunctions } from '../test/lambda-runtime/fake-sfn.ts';
import { bundleAll, functionUrlEvent, runtimeMissing, startRuntime, type FunctionId, type Runtime } from '../test/lambda-runtime/runtime.ts';
import { cpuMs, f, machine, memMiB } from './lib.ts';

const quick = process.argv.includes('--quick');
/** The long kinds: a stream and a background job of this many seconds of generation. */
const LONG_S = quick ? 3 : 30;
/** The model's time for the JSON kind (a short answer), as the fake upstream waits before answering. */
const JSON_MODEL_S = 2;
const WARM_RUNS = 20;

// Prices, us-east-1, as published in November 2026 (arm64 Lambda; DynamoDB on-demand; Step Functions Standard; CloudWatch Logs standard ingestion).
const PRICE = {
  lambdaGbSecond: 0.0000133334, lambdaRequest: 0.2 / 1e6,
  wru: 0.625 / 1e6, rru: 0.125 / 1e6,
  sfnTransition: 0.025 / 1000,
  logGb: 0.5,
};
/** Step Functions transitions of a job that succeeds: entering RunResponse and the end (infra/workflow.asl.json), counted high. */
const JOB_TRANSITIONS = 2;
/** The platform's START/END/REPORT lines per invocation, which the emulator does not write (bytes, about). */
const PLATFORM_LOG_BYTES = 350;

const missing = runtimeMissing();
if (missing) throw new Error(missing);

// ── DynamoDB capacity, counted on the wire ───────────────────────────────────
interface Capacity { wru: number; rru: number; calls: number }
const zero = (): Capacity => ({ wru: 0, rru: 0, calls: 0 });
let counted = zero();

/**
 * A proxy in front of dynalite that adds ReturnConsumedCapacity TOTAL to every call and adds up
 * what comes back (dynalite computes it as DynamoDB does: item sizes in 1 KB write units, 4 KB
 * read units). dynalite does not check signatures, so the changed body is accepted.
 */
async function capacityProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(target);
  const forward = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = await buffer(req);
    try {
      const json = JSON.parse(body.toString('utf8'));
      json.ReturnConsumedCapacity = 'TOTAL';
      body = Buffer.from(JSON.stringify(json));
    } catch { /* not JSON: as is */ }
    const headers = { ...req.headers, 'content-length': String(body.length) };
    const up = http.request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers }, async (ans) => {
      const text = await buffer(ans);
      countCapacity(String(req.headers['x-amz-target'] ?? ''), text);
      res.writeHead(ans.statusCode ?? 500, ans.headers);
      res.end(text);
    });
    up.on('error', () => res.destroy());
    up.end(body);
  };
  const server = http.createServer((req, res) => void forward(req, res).catch(() => res.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** Adds the capacity a DynamoDB answer reports to `counted` (`target`: its X-Amz-Target). */
function countCapacity(target: string, answer: Buffer): void {
  try {
    const json = JSON.parse(answer.toString('utf8'));
    const caps = [json.ConsumedCapacity ?? []].flat() as Array<{ CapacityUnits?: number; WriteCapacityUnits?: number; ReadCapacityUnits?: number }>;
    counted.calls++;
    for (const c of caps) {
      const units = c.CapacityUnits ?? 0;
      if (/PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWrite/.test(target)) counted.wru += c.WriteCapacityUnits ?? units;
      else counted.rru += c.ReadCapacityUnits ?? units;
    }
  } catch { /* not JSON */ }
}

// ── the system ───────────────────────────────────────────────────────────────
const dir = mkdtempSync(join(tmpdir(), 'gw-bench-costs-'));
const [bundles, dynamo, upstream, sfn] = await Promise.all([bundleAll(dir), startDynalite(), startFakeUpstream({ flavor: 'vllm', models: ['m'] }), startFakeStepFunctions()]);
const proxy = await capacityProxy(dynamo.endpoint);
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Workflow';
// As users configure it (NOMYO configs set a limit): slot leases are DynamoDB writes, as on Lambda.
const config = JSON.stringify({ endpoints: [upstream.url], max_concurrent_connections: 4, upstream_timeout_ms: 60_000 });
const common = { CONFIG_JSON: config, DYNAMODB_ENDPOINT: proxy.url, RESPONSES_TABLE: dynamo.tables.responses, SECRET_PARAMETERS: '{}' };
const envOf: Record<FunctionId, Record<string, string>> = {
  Api: { ...common, CACHE_TABLE: dynamo.tables.cache, STATE_MACHINE_ARN: STATE_MACHINE, AWS_ENDPOINT_URL_SFN: sfn.url },
  Worker: common,
  Sweeper: common,
};

const QUESTION = 'Explain, in a few paragraphs, how a write-ahead log lets a database recover after a crash. '.repeat(10); // ~1 KB
const ANSWER = 'A write-ahead log records each change before it is applied, so after a crash the database replays it. '.repeat(20); // ~2 KB
const longReply = (ms: number): Reply => {
  const n = Math.max(1, Math.round(ms / 100));
  return { deltas: Array.from({ length: n }, (_, i) => `word${i} `), chunkDelayMs: ms / n };
};
// Random bytes: an image does not compress.
const imageOf = (bytes: number) => `data:image/png;base64,${randomBytes(bytes).toString('base64')}`;
const image = imageOf(2 * 1024 * 1024);
/** The largest image a request can carry: a Function URL takes at most 6 MB of request body. */
const largest = imageOf(4.3 * 1024 * 1024);
const withImage = (url: string) => [{ role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: url }] }];

const post = (body: object) => functionUrlEvent({ path: '/v1/responses', body: JSON.stringify({ model: 'm', ...body }) });

interface Kind {
  name: string;
  /** The reply the upstream gives for the measured request, and for the warm CPU runs (no waits). */
  reply: Reply;
  warmReply: Reply;
  body: () => ReturnType<typeof post>;
  background?: boolean;
  /** Warm runs for CPU time (WARM_RUNS unless set). */
  warm?: number;
}
const KINDS: Kind[] = [
  { name: `JSON (model ${JSON_MODEL_S} s)`, reply: { text: ANSWER, delayMs: JSON_MODEL_S * 1000 }, warmReply: { text: ANSWER }, body: () => post({ input: QUESTION }) },
  { name: `stream of ${LONG_S} s`, reply: longReply(LONG_S * 1000), warmReply: { ...longReply(LONG_S * 1000), chunkDelayMs: 0 }, body: () => post({ input: QUESTION, stream: true }) },
  { name: `background job of ${LONG_S} s`, reply: longReply(LONG_S * 1000), warmReply: { ...longReply(LONG_S * 1000), chunkDelayMs: 0 }, body: () => post({ input: QUESTION, background: true }), background: true },
  { name: '2 MB image input', reply: { text: 'A grey square.' }, warmReply: { text: 'A grey square.' }, body: () => post({ input: withImage(image) }) },
];
/** Sizing only (not in the cost table): the largest body, as a request and as a background job. */
const LARGEST: Kind[] = [
  { name: '4.3 MB image (the 6 MB body limit)', reply: { text: 'Noise.' }, warmReply: { text: 'Noise.' }, body: () => post({ input: withImage(largest) }), warm: 3 },
  { name: 'background job, 4.3 MB image', reply: { text: 'Noise.' }, warmReply: { text: 'Noise.' }, body: () => post({ input: withImage(largest), background: true }), background: true, warm: 3 },
];

interface Measured {
  fn: FunctionId;
  initMiB: number;
  peakMiB: number;
  /** The measured request's billed duration (ms, rounded up as Lambda bills). */
  billedMs: number;
  /** CPU per request, warm (ms). */
  cpuMs: number;
  logBytes: number;
  capacity: Capacity;
}

async function invokeOk(rt: Runtime, event: unknown, waitMs = 120_000) {
  const r = await rt.invoke(event, { waitMs });
  if (r.error || (r.mode === 'streaming' && r.statusCode >= 400)) throw new Error(`${r.mode} ${r.statusCode} ${JSON.stringify(r.error)} ${r.body.toString().slice(0, 300)}`);
  return r;
}

const idOf = (body: Buffer) => /"id":"(resp_[0-9a-f]+)"/.exec(body.toString('utf8'))![1]!;
const workerEvent = (id: string) => ({ action: 'run', responseId: id, executionId: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${id}` });

/** One kind: fresh instances, the measured request (cold), then WARM_RUNS more for CPU. */
async function measure(kind: Kind): Promise<Measured[]> {
  const api = await startRuntime('Api', bundles.Api, envOf.Api);
  const worker = kind.background ? await startRuntime('Worker', bundles.Worker, envOf.Worker) : null;
  try {
    const init = { Api: memMiB(api.process.pid!).rss, Worker: worker ? memMiB(worker.process.pid!).rss : 0 };
    const logs0 = { Api: api.output.join('\n').length, Worker: worker?.output.join('\n').length ?? 0 };
    upstream.script(kind.reply);
    counted = zero();
    let t0 = performance.now();
    const r = await invokeOk(api, kind.body());
    await api.emulator.idle(); // billed until the handler returns (the slot's release after the answer included)
    const apiMs = performance.now() - t0;
    const apiCap = { ...counted };
    const out: Measured[] = [];
    let workerMs = 0;
    let workerCap = zero();
    if (worker) {
      counted = zero();
      t0 = performance.now();
      await invokeOk(worker, workerEvent(idOf(r.body)));
      await worker.emulator.idle();
      workerMs = performance.now() - t0;
      workerCap = { ...counted };
    }
    const logs1 = { Api: api.output.join('\n').length, Worker: worker?.output.join('\n').length ?? 0 };
    // Warm: the same request again, for CPU time per request (the upstream without waits).
    upstream.fallback = kind.warmReply;
    const cpu0 = { Api: cpuMs(api.process.pid!), Worker: worker ? cpuMs(worker.process.pid!) : 0 };
    const warm = kind.warm ?? WARM_RUNS;
    for (let i = 0; i < warm; i++) {
      const w = await invokeOk(api, kind.body());
      if (worker) await invokeOk(worker, workerEvent(idOf(w.body)));
    }
    const cpu1 = { Api: cpuMs(api.process.pid!), Worker: worker ? cpuMs(worker.process.pid!) : 0 };
    upstream.fallback = { text: 'ok' };
    out.push({ fn: 'Api', initMiB: init.Api, peakMiB: memMiB(api.process.pid!).hwm, billedMs: Math.ceil(apiMs), cpuMs: (cpu1.Api - cpu0.Api) / warm, logBytes: logs1.Api - logs0.Api + PLATFORM_LOG_BYTES, capacity: apiCap });
    if (worker) out.push({ fn: 'Worker', initMiB: init.Worker, peakMiB: memMiB(worker.process.pid!).hwm, billedMs: Math.ceil(workerMs), cpuMs: (cpu1.Worker - cpu0.Worker) / warm, logBytes: logs1.Worker - logs0.Worker + PLATFORM_LOG_BYTES, capacity: workerCap });
    return out;
  } finally {
    await Promise.all([api.close(), worker?.close()]);
  }
}

const results: Array<{ kind: Kind; runs: Measured[] }> = [];
const sizing: Array<{ kind: Kind; runs: Measured[] }> = [];
try {
  for (const kind of KINDS) {
    console.error(`lambda-costs: ${kind.name}`);
    results.push({ kind, runs: await measure(kind) });
  }
  for (const kind of LARGEST) {
    console.error(`lambda-costs: ${kind.name}`);
    sizing.push({ kind, runs: await measure(kind) });
  }
} finally {
  await Promise.all([proxy.close(), dynamo.close(), upstream.close(), sfn.close()]);
  rmSync(dir, { recursive: true, force: true });
}

const memoryOf = (fn: FunctionId) => FUNCTIONS.find((s) => s.id === fn)!.memorySize;
/** Lambda's CPU share grows with memory: one full vCPU at 1,769 MB. */
const cpuAt = (ms: number, mb: number) => (ms * 1769) / Math.min(mb, 1769);

const measuredRows = [...results, ...sizing].flatMap(({ kind, runs }) => runs.map((m) => [
  kind.name, m.fn, f(m.initMiB, 0), f(m.peakMiB, 0), String(memoryOf(m.fn)), f(m.peakMiB / memoryOf(m.fn) * 100, 0) + ' %',
  f(m.cpuMs, 1), f(cpuAt(m.cpuMs, memoryOf(m.fn)), 1), String(m.billedMs), f(m.capacity.wru, 0), f(m.capacity.rru, 1), String(m.logBytes),
]));

const costRows = results.map(({ kind, runs }) => {
  let lambda = 0, dynamoCost = 0, logs = 0;
  for (const m of runs) {
    lambda += PRICE.lambdaRequest + (memoryOf(m.fn) / 1024) * (m.billedMs / 1000) * PRICE.lambdaGbSecond;
    dynamoCost += m.capacity.wru * PRICE.wru + m.capacity.rru * PRICE.rru;
    logs += (m.logBytes / 1024 ** 3) * PRICE.logGb;
  }
  const sfnCost = kind.background ? JOB_TRANSITIONS * PRICE.sfnTransition : 0;
  const per = (x: number) => `$${(x * 1e6).toFixed(2)}`;
  return [kind.name, per(lambda), per(dynamoCost), per(sfnCost), per(logs), per(lambda + dynamoCost + sfnCost + logs)];
});

console.log(`## What a request costs on Lambda

Command: \`node_modules/.bin/node --import tsx bench/lambda-costs.ts\`${quick ? ' --quick' : ''}. Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}.
Each kind on fresh instances of the functions as \`cdk synth\` bundles them, under AWS's runtime interface
client on Node 24 (test/lambda-runtime/), against dynalite, a fake vLLM and a Step Functions stand-in,
with \`max_concurrent_connections\` set and \`store\` on (the defaults users run). The input is about 1 KB of
text, the JSON answer about 2 KB; the stream and the job generate for ${LONG_S} s (a delta every 100 ms).

| request | function | RSS after init, MiB | peak RSS, MiB | memory size, MB | peak / size | CPU per request warm, ms (here) | the same at that size, ms | billed duration, ms | DynamoDB write units | read units | log bytes |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${measuredRows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

CPU "at that size" scales this machine's figure by Lambda's CPU share (a full vCPU at 1,769 MB), an
estimate. Billed duration is the measured request's invocation time (the first one of its
instance), which is mostly the model's time.

Cost of 1 million requests of each kind at those sizes (us-east-1 prices of November 2026: Lambda
arm64 $0.0000133334 per GB-s and $0.20 per million requests; DynamoDB on-demand $0.625 per million
write units and $0.125 per million read units; Step Functions Standard $0.025 per 1,000 transitions,
${JOB_TRANSITIONS} per job; CloudWatch Logs $0.50 per GB ingested; data transfer not counted):

| request | Lambda | DynamoDB | Step Functions | logs | total per million |
| --- | ---: | ---: | ---: | ---: | ---: |
${costRows.map((r) => `| ${r.join(' | ')} |`).join('\n')}
`);
