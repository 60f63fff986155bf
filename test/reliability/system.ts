// Helpers shared by the fault and load suites: a gateway with its own config (the harness pins
// upstream_timeout_ms and the model-list TTL, which these suites need to choose), a raw upstream
// that answers with whatever bytes a test hands it, and the checks every fault ends with.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { startDynalite, type LocalDynamo } from '../../shared/adapters/dynalite.ts';
import { sseEvents, type SseEvent } from '../helpers/harness.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` until `ok` holds or `timeoutMs` passes (then returns the last value). Bounded. */
export async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await sleep(everyMs);
  }
}

/** The config file: `endpoints` lines as given, then `key: value` settings. */
export function configYaml(endpoints: string[], settings: Record<string, string | number | boolean>): string {
  return [
    'endpoints:',
    ...endpoints.map((e) => `  - ${e}`),
    ...Object.entries(settings).map(([k, v]) => `${k}: ${v}`),
  ].join('\n');
}

// ── a raw upstream ───────────────────────────────────────────────────────────

export type RawHandler = (req: IncomingMessage, res: ServerResponse, body: any) => void | Promise<void>;

/**
 * An Ollama-style endpoint (model list at /api/tags, chat at /v1/chat/completions) whose chat
 * answers are written by `handler`, byte for byte: for shapes the fake upstream cannot send.
 */
export interface RawUpstream {
  url: string;
  handler: RawHandler;
  /** Answers every other route (a tokenizer's, say) when set; otherwise they are a 404. */
  other?: RawHandler;
  chats: number;
  close(): Promise<void>;
}

export async function startRawUpstream(models: string[]): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const raw: RawUpstream = {
    url: '',
    chats: 0,
    handler: (_req, res) => { res.writeHead(500).end(); },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method === 'GET' && path === '/api/tags') return json(200, { models: models.map((name) => ({ name, model: name })) });
      if (req.method === 'GET' && path === '/api/ps') return json(200, { models: [] });
      if (req.method === 'GET' && path === '/v1/models') return json(200, { object: 'list', data: models.map((id) => ({ id, object: 'model' })) });
      if (req.method === 'POST' && path === '/v1/chat/completions') {
        raw.chats++;
        let body: unknown;
        try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { body = undefined; }
        void Promise.resolve(raw.handler(req, res, body)).catch(() => res.destroy());
        return;
      }
      if (raw.other) {
        void Promise.resolve(raw.other(req, res, undefined)).catch(() => res.destroy());
        return;
      }
      json(404, { error: 'not found' });
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  raw.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return raw;
}

// ── DynamoDB ─────────────────────────────────────────────────────────────────

/** Stored responses (their meta items) in the gateway's table. */
export async function countStored(dynamo: LocalDynamo): Promise<number> {
  let count = 0;
  let start: Record<string, any> | undefined;
  for (let page = 0; page < 10_000; page++) {
    const out = await dynamo.client.send(new ScanCommand({
      TableName: dynamo.tables.responses,
      FilterExpression: 'sk = :r AND begins_with(pk, :resp)',
      ExpressionAttributeValues: { ':r': { S: 'r' }, ':resp': { S: 'resp_' } },
      Select: 'COUNT',
      ExclusiveStartKey: start,
    }));
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
    if (!start) break;
  }
  return count;
}

/**
 * Stops a running embedded DynamoDB (its LevelDB stays on disk) and returns a function that
 * starts it again on the same port and path, as a restarted DynamoDB Local would come back: the
 * gateway's client, still pointed at that endpoint, reconnects by itself.
 */
export async function stopDynamo(running: LocalDynamo, dataDir: string): Promise<() => Promise<LocalDynamo>> {
  const port = Number(new URL(running.endpoint).port);
  await running.close();
  return () => startDynalite({ path: join(dataDir, 'dynamodb'), port });
}

// ── streams ──────────────────────────────────────────────────────────────────

export const TERMINAL_EVENTS = new Set(['response.completed', 'response.failed', 'response.incomplete', 'error']);

/**
 * A clean stream end: the body ends on a frame boundary, sequence numbers run 0.. without a gap
 * (or from `from`), every frame's `event:` is its `type`, and there is exactly one terminal
 * event, the last one. Returns the events.
 */
export function expectCleanStream(text: string, from = 0): SseEvent[] {
  expect(text.endsWith('\n\n'), `stream ends on a frame boundary: ${JSON.stringify(text.slice(-200))}`).toBe(true);
  const events = sseEvents(text);
  expect(events.length).toBeGreaterThan(0);
  expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => from + i));
  for (const e of events) expect(e.event).toBe(e.data.type);
  const terminals = events.filter((e) => TERMINAL_EVENTS.has(e.data.type));
  expect(terminals.map((e) => e.data.type), 'exactly one terminal event').toHaveLength(1);
  expect(events.at(-1)).toBe(terminals[0]);
  return events;
}

/** An OpenAI error envelope with a 5xx status. */
export function expectServerErrorEnvelope(res: { status: number; json: any; text: string }, status?: number | number[]) {
  if (status === undefined) {
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.status).toBeLessThan(600);
  } else if (Array.isArray(status)) expect(status).toContain(res.status);
  else expect(res.status).toBe(status);
  expect(res.json, res.text).toBeDefined();
  expect(Object.keys(res.json)).toEqual(['error']);
  expect(Object.keys(res.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(res.json.error.type).toBe('server_error');
  expect(typeof res.json.error.message).toBe('string');
}

export interface Answer { status: number; text: string; json: any; contentType: string | null }

/** POST /v1/responses, whole answer as text (and JSON when it is JSON). */
export async function create(base: string, body: unknown, signal?: AbortSignal): Promise<Answer> {
  const res = await fetch(`${base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json, contentType: res.headers.get('content-type') };
}

export async function retrieve(base: string, id: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}/responses/${id}`);
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json };
}

export const isTerminalStatus = (s: string) => ['completed', 'failed', 'incomplete', 'cancelled'].includes(s);

/** Polls GET /v1/responses/{id} until the response is terminal (bounded). */
export async function waitTerminal(base: string, id: string, timeoutMs = 15_000): Promise<any> {
  const r = await waitFor(() => retrieve(base, id), (x) => x.status === 200 && isTerminalStatus(x.json.status), timeoutMs);
  return r.json;
}

/**
 * Opens a stream, reads until `until` matches the text received so far, and returns the id
 * with a reader for the rest (or drops the connection with `drop`).
 */
export async function openStream(base: string, body: object, until: (text: string) => boolean) {
  const controller = new AbortController();
  const res = await fetch(`${base}/responses`, {
    method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }),
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (let i = 0; i < 10_000 && !until(text); i++) {
    const r = await reader.read();
    if (r.done) break;
    text += decoder.decode(r.value, { stream: true });
  }
  const id = /"id":"(resp_[0-9a-f]+)"/.exec(text)?.[1] ?? '';
  return {
    id,
    text,
    drop: () => controller.abort(),
    /** The rest of the body; rejects if the connection breaks. */
    rest: async () => {
      for (let i = 0; i < 100_000; i++) {
        const r = await reader.read();
        if (r.done) break;
        text += decoder.decode(r.value, { stream: true });
      }
      return text;
    },
  };
}

// ── a gateway in a child process (for a process that dies) ──────────────────

export interface ChildGateway {
  url: string;
  proc: ChildProcess;
  /** Everything it wrote to stderr (its warnings and errors). */
  stderr: () => string;
  /** Everything it wrote to stdout (its other log lines). */
  stdout: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `npm start`'s entry point (functions/local/main.ts) in its own Node process, on a free port. */
export async function startChildGateway(opts: { configPath: string; dataDir: string; timeoutMs?: number; env?: Record<string, string> }): Promise<ChildGateway> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'functions/local/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: opts.dataDir, NOMYO_ROUTER_CONFIG_PATH: opts.configPath, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child gateway did not start: ${err.slice(-2000)}`)), opts.timeoutMs ?? 30_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`child gateway exited (${code}): ${err.slice(-2000)}`)); });
  });
  return {
    url,
    proc,
    stderr: () => err,
    stdout: () => out,
    kill: async (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await Promise.race([exited, sleep(10_000)]);
    },
  };
}
