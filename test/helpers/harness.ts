import { startGateway, type Gateway } from '../../functions/local/gateway.ts';
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from './fake-upstream.ts';
import { recordProblems, responseProblems, streamProblems, type StreamOptions } from './conformance.ts';

// A whole system for a test: fake upstream(s) as real HTTP servers, the gateway on its real
// handler over HTTP with an in-memory dynalite.

export interface System {
  gw: Gateway;
  upstreams: FakeUpstream[];
  /** The gateway's /v1 base URL. */
  base: string;
  close(): Promise<void>;
}

export interface SystemOptions {
  upstreams?: FakeUpstreamOptions[];
  /** Extra YAML appended to the generated config. */
  extraConfig?: string;
  /** Override how each upstream is listed under `endpoints:`. */
  endpointLine?: (u: FakeUpstream) => string;
  /** Workflow retry interval (ms) for the local runner. */
  retryIntervalMs?: number;
  /** false: no WebSocket mode (the handshake is answered 426, as on Lambda). */
  webSockets?: boolean;
}

export async function startSystem(opts: SystemOptions = {}): Promise<System> {
  const upstreams = await Promise.all((opts.upstreams ?? [{ flavor: 'ollama' }]).map((o) => startFakeUpstream(o)));
  const line = opts.endpointLine ?? ((u: FakeUpstream) => (u.flavor === 'openai' ? `{ url: "${u.url}/v1", type: openai }` : `"${u.url}"`));
  const apiKeys = upstreams
    .map((u, i) => (opts.upstreams?.[i]?.apiKey ? `  "${u.flavor === 'openai' ? `${u.url}/v1` : u.url}": "${opts.upstreams[i]!.apiKey}"` : ''))
    .filter(Boolean);
  // Defaults for tests, unless extraConfig sets the same key.
  const defaults = ['model_list_ttl_ms: 0', 'upstream_timeout_ms: 5000'].filter((l) => !new RegExp(`^${l.split(':')[0]}:`, 'm').test(opts.extraConfig ?? ''));
  const yaml = [
    'endpoints:',
    ...upstreams.map((u) => `  - ${line(u)}`),
    apiKeys.length ? ['api_keys:', ...apiKeys].join('\n') : 'api_keys: {}',
    ...defaults,
    opts.extraConfig ?? '',
  ].join('\n');
  const gw = await startGateway({ configYaml: yaml, retryIntervalMs: opts.retryIntervalMs, webSockets: opts.webSockets });
  return {
    gw,
    upstreams,
    base: `${gw.url}/v1`,
    close: async () => {
      await gw.close();
      await Promise.all(upstreams.map((u) => u.close()));
    },
  };
}

export interface SseEvent { event?: string; data: any }

/**
 * The spec's `_sse_events`: an SSE body split into (type, data) pairs, checked for conformance
 * (a resumed stream says after which event it starts).
 */
export function sseEvents(text: string, opts: StreamOptions = {}): SseEvent[] {
  const events = parseFrames(text);
  recordProblems(streamProblems(events.map((e) => e.data), opts), 'SSE');
  for (const e of events) if (e.event !== e.data?.type) recordProblems([`event: line ${e.event} differs from data.type ${e.data?.type}`], 'SSE');
  return events;
}

function parseFrames(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim())
    .map((frame) => {
      let event: string | undefined;
      let data: any;
      for (const line of frame.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data = JSON.parse(line.slice(6));
      }
      return { event, data };
    });
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  checkJson(res.status, json);
  return { status: res.status, headers: res.headers, text, json };
}


export async function getJson(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetch(url, { method, headers });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  checkJson(res.status, json);
  return { status: res.status, headers: res.headers, text, json };
}

/** Every JSON answer: a Response object conforms; an error is OpenAI's envelope. */
function checkJson(status: number, json: any): void {
  if (json?.object === 'response' && !('deleted' in json)) recordProblems(responseProblems(json), 'JSON');
  if (json?.object === 'conversation') {
    const ok = /^conv_[0-9a-zA-Z]{24,}$/.test(json.id) && Number.isInteger(json.created_at) && json.metadata !== null && typeof json.metadata === 'object';
    if (!ok) recordProblems([`conversation ${JSON.stringify(json).slice(0, 200)} lacks id, created_at or metadata`], 'JSON');
  }
  if (status >= 400) {
    const e = json?.error;
    const ok = e && typeof e.message === 'string' && typeof e.type === 'string' && 'param' in e && 'code' in e;
    if (!ok) recordProblems([`HTTP ${status} body is not the error envelope`], 'JSON');
  }
}
