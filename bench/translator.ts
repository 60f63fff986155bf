// The pure stream translator on one core: Chat Completions chunks (as Ollama streams them) to
// Responses events, no I/O. Stages, each timed by this process's CPU time (process.cpuUsage, so a
// busy machine slows the wall clock but not the figure much) over the same 1,000-delta streams:
//   translate        parsed chunk objects -> ChatStreamTranslator -> event objects
//   + encode         ... -> encodeEvent (the SSE frame the client gets)
//   whole pipeline   SSE text in ~1.4 KB reads -> SseDecoder -> JSON.parse -> translate -> encode
// with, as the baseline of the same run, the floor of any proxy that rewrites JSON events:
//   parse + stringify   SSE text -> SseDecoder -> JSON.parse -> JSON.stringify of the same chunk
// Run: node_modules/.bin/node --import tsx bench/translator.ts [--quick]
import { ChatStreamTranslator, encodeEvent, SseDecoder } from '../shared/stream/index.ts';
import { newResponseObject } from '../shared/protocol/response.ts';
import type { ChatChunk } from '../shared/protocol/types.ts';
import { f, isMain, machine, median, table, type Section } from './lib.ts';

const quick = process.argv.includes('--quick');
const DELTAS = 1000;
const STREAMS = Number(process.env.TRANSLATOR_STREAMS ?? (quick ? 50 : 100));
const REPEATS = 5;

/** One stream as Ollama's /v1/chat/completions sends it (the fake upstream's byte shape). */
function ollamaStream(n: number): string {
  const base = { id: 'chatcmpl-123', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'bench:latest', system_fingerprint: 'fp_ollama' };
  const frames: string[] = [];
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ ...base, choices: [{ index: 0, delta: { role: 'assistant', ...delta }, finish_reason: finish }] });
  for (let i = 0; i < n; i++) frames.push(`data: ${JSON.stringify(chunk({ content: `tok${i} ` }, null))}\n\n`);
  const last = chunk({ content: '' }, 'stop');
  frames.push(`data: ${JSON.stringify(last)}\n\n`);
  frames.push(`data: ${JSON.stringify({ ...last, choices: [], usage: { prompt_tokens: 10, completion_tokens: n, total_tokens: n + 10 } })}\n\n`);
  frames.push('data: [DONE]\n\n');
  return frames.join('');
}

/** The text cut in reads of about the size a loopback socket hands over. */
function reads(text: string, size = 1400): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const base = newResponseObject({ id: 'resp_0123456789abcdef0123456789abcdef', model: 'bench', createdAt: 1_700_000_000, status: 'in_progress', request: { model: 'bench', input: 'x', store: false } });
let idn = 0;
const newId = (p: string) => `${p}_${(idn++).toString(16).padStart(32, '0')}`;

function translateAll(chunks: ChatChunk[], encode: boolean): { events: number; bytes: number } {
  const t = new ChatStreamTranslator({ response: base, newId, now: () => 1_700_000_000_000 });
  let events = 0;
  let bytes = 0;
  const take = (evs: ReturnType<ChatStreamTranslator['push']>) => {
    events += evs.length;
    if (encode) for (const e of evs) bytes += encodeEvent(e).length;
  };
  take(t.created());
  take(t.inProgress());
  for (const c of chunks) take(t.push(c));
  take(t.end());
  return { events, bytes };
}

function pipeline(pieces: string[]): { events: number; bytes: number } {
  const t = new ChatStreamTranslator({ response: base, newId, now: () => 1_700_000_000_000 });
  const d = new SseDecoder();
  let events = 0;
  let bytes = 0;
  const take = (evs: ReturnType<ChatStreamTranslator['push']>) => {
    events += evs.length;
    for (const e of evs) bytes += encodeEvent(e).length;
  };
  take(t.created());
  take(t.inProgress());
  for (const p of pieces) {
    for (const frame of d.push(p)) {
      if (frame.data === '[DONE]') continue;
      take(t.push(JSON.parse(frame.data) as ChatChunk));
    }
  }
  take(t.end());
  return { events, bytes };
}

function floor(pieces: string[]): { events: number; bytes: number } {
  const d = new SseDecoder();
  let events = 0;
  let bytes = 0;
  for (const p of pieces) {
    for (const frame of d.push(p)) {
      if (frame.data === '[DONE]') continue;
      bytes += JSON.stringify(JSON.parse(frame.data)).length;
      events++;
    }
  }
  return { events, bytes };
}

const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** Median over REPEATS of CPU ms for STREAMS streams; events per stream from the last pass. */
function time(fn: () => { events: number; bytes: number }): { ms: number; events: number } {
  for (let i = 0; i < Math.max(3, STREAMS / 10); i++) fn(); // warm-up
  const runs: number[] = [];
  let events = 0;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = cpuNow();
    events = 0;
    for (let i = 0; i < STREAMS; i++) events += fn().events;
    runs.push(cpuNow() - t0);
  }
  return { ms: median(runs), events };
}

export async function run(): Promise<Section> {
  const text = ollamaStream(DELTAS);
  const pieces = reads(text);
  const chunks = text.split('\n\n').filter((x) => x.startsWith('data: {')).map((x) => JSON.parse(x.slice(6)) as ChatChunk);
  const stages: Array<[string, { ms: number; events: number }]> = [
    ['parse + stringify only (baseline)', time(() => floor(pieces))],
    ['translate (chunk objects -> events)', time(() => translateAll(chunks, false))],
    ['translate + encode SSE', time(() => translateAll(chunks, true))],
    ['whole pipeline: SSE text -> decode -> JSON.parse -> translate -> encode', time(() => pipeline(pieces))],
  ];
  const floorNs = (stages[0]![1].ms * 1e6) / stages[0]![1].events;
  const rows = stages.map(([name, s]) => {
    const ns = (s.ms * 1e6) / s.events;
    return [name, String(s.events), f(s.ms, 1), f((s.events / s.ms) * 1000, 0), f(ns, 0), f(ns / floorNs)];
  });
  const whole = stages[3]![1];
  const body = [
    `Command: \`node_modules/.bin/node --import tsx bench/translator.ts\` (also part of \`npm run bench\`). ${machine()}; one thread, CPU time of the`,
    `process (\`process.cpuUsage\`), median of ${REPEATS} passes over ${STREAMS} streams of ${DELTAS} one-word deltas as Ollama sends them`,
    '(each chunk about 190 bytes; the stream read in 1,400-byte pieces), after a warm-up. "Events" are the Responses',
    'events produced (1,009 per stream: created, in_progress, item and part added, 1,000 deltas, text and part done,',
    'item done, completed); the baseline counts upstream chunks (1,002 per stream). The last column compares the cost',
    'per event with the baseline: SseDecoder + JSON.parse + JSON.stringify of each chunk, the least any proxy that',
    'rewrites JSON events does.',
    '',
    table(['stage', 'events', 'CPU ms', 'events / CPU-second', 'ns / event', '/ baseline'], rows),
  ].join('\n');
  return {
    heading: '## Stream translator throughput',
    body,
    summary: [`stream translator, whole pipeline: ${f((whole.events / whole.ms) * 1000 / 1e6, 2)} M events/s on one core (${f((whole.ms * 1e6) / whole.events, 0)} ns/event)`],
  };
}

if (isMain(import.meta.url)) {
  const s = await run();
  console.log(`${s.heading}\n\n${s.body}\n`);
}
