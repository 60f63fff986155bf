// Builders for the Responses stream events we emit, with every field OpenAI sends (minus
// `obfuscation`), in OpenAI's field order. Plain literals: these run once per streamed token.
import { outputTextOf } from '../protocol/response.ts';
import type { OutputItem, ResponseObject, StreamEvent } from '../protocol/types.ts';

type Part = Record<string, unknown> & { type: string };

export const itemAdded = (seq: number, output_index: number, item: OutputItem): StreamEvent =>
  ({ type: 'response.output_item.added', sequence_number: seq, output_index, item });

export const itemDone = (seq: number, output_index: number, item: OutputItem): StreamEvent =>
  ({ type: 'response.output_item.done', sequence_number: seq, output_index, item });

export const partAdded = (seq: number, item_id: string, output_index: number, content_index: number, part: Part): StreamEvent =>
  ({ type: 'response.content_part.added', sequence_number: seq, item_id, output_index, content_index, part });

export const partDone = (seq: number, item_id: string, output_index: number, content_index: number, part: Part): StreamEvent =>
  ({ type: 'response.content_part.done', sequence_number: seq, item_id, output_index, content_index, part });

export const textDelta = (seq: number, item_id: string, output_index: number, content_index: number, delta: string): StreamEvent =>
  ({ type: 'response.output_text.delta', sequence_number: seq, item_id, output_index, content_index, delta, logprobs: [] });

export const textDone = (seq: number, item_id: string, output_index: number, content_index: number, text: string, logprobs: unknown[] = []): StreamEvent =>
  ({ type: 'response.output_text.done', sequence_number: seq, item_id, output_index, content_index, text, logprobs });

export const refusalDelta = (seq: number, item_id: string, output_index: number, content_index: number, delta: string): StreamEvent =>
  ({ type: 'response.refusal.delta', sequence_number: seq, item_id, output_index, content_index, delta });

export const refusalDone = (seq: number, item_id: string, output_index: number, content_index: number, refusal: string): StreamEvent =>
  ({ type: 'response.refusal.done', sequence_number: seq, item_id, output_index, content_index, refusal });

export const argsDelta = (seq: number, item_id: string, output_index: number, delta: string): StreamEvent =>
  ({ type: 'response.function_call_arguments.delta', sequence_number: seq, item_id, output_index, delta });

export const argsDone = (seq: number, item_id: string, output_index: number, name: string, args: string): StreamEvent =>
  ({ type: 'response.function_call_arguments.done', sequence_number: seq, item_id, output_index, name, arguments: args });

export const customInputDelta = (seq: number, item_id: string, output_index: number, delta: string): StreamEvent =>
  ({ type: 'response.custom_tool_call_input.delta', sequence_number: seq, item_id, output_index, delta });

export const customInputDone = (seq: number, item_id: string, output_index: number, input: string): StreamEvent =>
  ({ type: 'response.custom_tool_call_input.done', sequence_number: seq, item_id, output_index, input });

export const reasoningDelta = (seq: number, item_id: string, output_index: number, content_index: number, delta: string): StreamEvent =>
  ({ type: 'response.reasoning_text.delta', sequence_number: seq, item_id, output_index, content_index, delta });

export const reasoningDone = (seq: number, item_id: string, output_index: number, content_index: number, text: string): StreamEvent =>
  ({ type: 'response.reasoning_text.done', sequence_number: seq, item_id, output_index, content_index, text });

export const summaryPartAdded = (seq: number, item_id: string, output_index: number, summary_index: number, part: Part): StreamEvent =>
  ({ type: 'response.reasoning_summary_part.added', sequence_number: seq, item_id, output_index, summary_index, part });

export const summaryPartDone = (seq: number, item_id: string, output_index: number, summary_index: number, part: Part): StreamEvent =>
  ({ type: 'response.reasoning_summary_part.done', sequence_number: seq, item_id, output_index, summary_index, part });

export const summaryDelta = (seq: number, item_id: string, output_index: number, summary_index: number, delta: string): StreamEvent =>
  ({ type: 'response.reasoning_summary_text.delta', sequence_number: seq, item_id, output_index, summary_index, delta });

export const summaryDone = (seq: number, item_id: string, output_index: number, summary_index: number, text: string): StreamEvent =>
  ({ type: 'response.reasoning_summary_text.done', sequence_number: seq, item_id, output_index, summary_index, text });

export type LifecycleType =
  | 'response.created' | 'response.queued' | 'response.in_progress'
  | 'response.completed' | 'response.incomplete' | 'response.failed';

/** The events that end a stream (a cancelled response ends with response.failed: see replay.ts). */
export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** A lifecycle event around a detached copy: the live object keeps changing after it is sent. */
export const lifecycle = (seq: number, type: LifecycleType, response: ResponseObject): StreamEvent =>
  ({ type, sequence_number: seq, response: snapshotOf(response) });

/**
 * A copy detached from later changes, with `output_text` brought up to date (it is derived, never
 * streamed). Only `output` is copied deep: the translators grow its items in place but only ever
 * replace the other fields (status, usage, error...), so sharing those is safe, and copying the
 * request's echo (tools, instructions) on every snapshot cost tens of µs for a Codex request.
 */
export function snapshotOf(response: ResponseObject): ResponseObject {
  const output = structuredClone(response.output);
  return { ...response, output, output_text: outputTextOf(output) };
}

/** The terminal lifecycle event for a finished status. Cancelled has no event of its own: see replay.ts. */
export function terminalType(status: ResponseObject['status']): LifecycleType | null {
  switch (status) {
    case 'completed': return 'response.completed';
    case 'incomplete': return 'response.incomplete';
    case 'failed':
    case 'cancelled': return 'response.failed';
    default: return null;
  }
}
