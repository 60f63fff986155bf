// Recorded upstream streams (test/fixtures) and the translator run over them, for stream tests.
import { readFileSync } from 'node:fs';
import { newResponseObject } from '../../shared/protocol/response.ts';
import type { ChatChunk, JsonObject, ResponseObject, StreamEvent } from '../../shared/protocol/types.ts';
import { ChatStreamTranslator, SseDecoder, type SseFrame } from '../../shared/stream/index.ts';

export const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

/** Decodes a body the way it arrives: in uneven pieces, split mid-line and mid-frame. */
export function framesOf(body: string, piece = 37): SseFrame[] {
  const d = new SseDecoder();
  const out: SseFrame[] = [];
  for (let i = 0; i < body.length; i += piece) out.push(...d.push(body.slice(i, i + piece)));
  return [...out, ...d.end()];
}

export const chunksOf = (name: string): ChatChunk[] =>
  framesOf(fixture(name)).filter((f) => f.data !== '[DONE]').map((f) => JSON.parse(f.data) as ChatChunk);

export const nativeFramesOf = (name: string): Array<{ event?: string; data: JsonObject }> =>
  framesOf(fixture(name)).map((f) => ({ event: f.event, data: JSON.parse(f.data) as JsonObject }));

/** Deterministic ids: prefix and a 24-digit counter. */
export function counterIds() {
  let n = 0;
  return (prefix: string) => `${prefix}_${String(++n).padStart(24, '0')}`;
}

export const RESP_ID = 'resp_0123456789abcdef0123456789abcdef';

export const baseResponse = (overrides: Partial<ResponseObject> = {}): ResponseObject => ({
  ...newResponseObject({ id: RESP_ID, model: 'test-model', createdAt: 1_700_000_000, status: 'in_progress', request: { store: false } }),
  ...overrides,
});

export const NOW_MS = 1_700_000_042_000;

export function newTranslator(opts: { nextSequence?: number; response?: ResponseObject } = {}) {
  return new ChatStreamTranslator({
    response: opts.response ?? baseResponse(), nextSequence: opts.nextSequence, newId: counterIds(), now: () => NOW_MS,
  });
}

/** The whole event stream for these chunks, as the chat path produces it. */
export function translate(chunks: ChatChunk[], end: { cut?: boolean } = {}): { events: StreamEvent[]; t: ChatStreamTranslator } {
  const t = newTranslator();
  const events = [...t.created(), ...t.inProgress()];
  for (const c of chunks) events.push(...t.push(c));
  events.push(...t.end(end));
  return { events, t };
}

export const types = (events: StreamEvent[]) => events.map((e) => e.type);
