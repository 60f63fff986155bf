// A finished Response -> the event stream that would have produced it: for cache hits and for
// `GET /v1/responses/{id}?stream=true`. Each part's text goes out as one delta.
//
// Cancelled responses: the public event union (openai SDK v7 ResponseStreamEvent) has no
// `response.cancelled`, and the SDK rejects unknown event types, so a cancelled response ends
// with `response.failed` whose response keeps `status: 'cancelled'` (as retrieve shows it).
// A response not yet finished (queued / in_progress) replays its items with no terminal event.
import type { OutputItem, ResponseObject, StreamEvent } from '../protocol/types.ts';
import * as E from './events.ts';

type Item = Record<string, unknown> & { type: string; id?: string };
type Part = Record<string, unknown> & { type: string };

export function responseToEvents(response: ResponseObject, opts: { nextSequence?: number; queued?: boolean } = {}): StreamEvent[] {
  let seq = opts.nextSequence ?? 0;
  const out: StreamEvent[] = [];
  // The opening snapshots show the response as it was when it started: nothing produced yet.
  const start: ResponseObject = {
    ...response, status: opts.queued ? 'queued' : 'in_progress', output: [], output_text: '',
    usage: null, error: null, incomplete_details: null, completed_at: null,
  };
  out.push(E.lifecycle(seq++, 'response.created', start));
  if (opts.queued) out.push(E.lifecycle(seq++, 'response.queued', start));
  out.push(E.lifecycle(seq++, 'response.in_progress', { ...start, status: 'in_progress' }));

  const next = () => seq++;
  response.output.forEach((item, index) => itemEvents(item as Item, index, next, out));

  const terminal = E.terminalType(response.status);
  if (terminal) out.push(E.lifecycle(seq++, terminal, response));
  return out;
}

function itemEvents(item: Item, index: number, seq: () => number, out: StreamEvent[]): void {
  const id = item.id ?? '';
  switch (item.type) {
    case 'message': {
      const parts = (item.content as Part[] | undefined) ?? [];
      out.push(E.itemAdded(seq(), index, { ...item, status: 'in_progress', content: [] } as OutputItem));
      parts.forEach((part, ci) => messagePart(part, id, index, ci, seq, out));
      break;
    }
    case 'function_call': {
      const args = String(item.arguments ?? '');
      out.push(E.itemAdded(seq(), index, { ...item, arguments: '', status: 'in_progress' } as OutputItem));
      if (args) out.push(E.argsDelta(seq(), id, index, args));
      out.push(E.argsDone(seq(), id, index, String(item.name ?? ''), args));
      break;
    }
    case 'custom_tool_call': {
      const input = String(item.input ?? '');
      out.push(E.itemAdded(seq(), index, { ...item, input: '', status: 'in_progress' } as OutputItem));
      if (input) out.push(E.customInputDelta(seq(), id, index, input));
      out.push(E.customInputDone(seq(), id, index, input));
      break;
    }
    case 'reasoning': {
      const summary = (item.summary as Part[] | undefined) ?? [];
      const content = item.content as Part[] | undefined;
      const added: Item = { ...item, summary: [] };
      if (Array.isArray(content)) added.content = [];
      if ('status' in item) added.status = 'in_progress';
      out.push(E.itemAdded(seq(), index, added as OutputItem));
      summary.forEach((part, si) => {
        const text = String(part.text ?? '');
        out.push(E.summaryPartAdded(seq(), id, index, si, { ...part, text: '' }));
        if (text) out.push(E.summaryDelta(seq(), id, index, si, text));
        out.push(E.summaryDone(seq(), id, index, si, text), E.summaryPartDone(seq(), id, index, si, part));
      });
      (content ?? []).forEach((part, ci) => {
        const text = String(part.text ?? '');
        out.push(E.partAdded(seq(), id, index, ci, { ...part, text: '' }));
        if (text) out.push(E.reasoningDelta(seq(), id, index, ci, text));
        out.push(E.reasoningDone(seq(), id, index, ci, text), E.partDone(seq(), id, index, ci, part));
      });
      break;
    }
    default:
      // Tool calls of hosted tools etc. (native path): announced and finished whole.
      out.push(E.itemAdded(seq(), index, item as OutputItem));
  }
  out.push(E.itemDone(seq(), index, item as OutputItem));
}

function messagePart(part: Part, id: string, index: number, ci: number, seq: () => number, out: StreamEvent[]): void {
  if (part.type === 'output_text') {
    const text = String(part.text ?? '');
    const annotations = (part.annotations as unknown[] | undefined) ?? [];
    out.push(E.partAdded(seq(), id, index, ci, { ...part, text: '', annotations: [], logprobs: [] }));
    if (text) out.push(E.textDelta(seq(), id, index, ci, text));
    annotations.forEach((annotation, ai) => out.push({
      type: 'response.output_text.annotation.added', sequence_number: seq(),
      item_id: id, output_index: index, content_index: ci, annotation_index: ai, annotation,
    }));
    out.push(E.textDone(seq(), id, index, ci, text, (part.logprobs as unknown[] | undefined) ?? []));
  } else if (part.type === 'refusal') {
    const refusal = String(part.refusal ?? '');
    out.push(E.partAdded(seq(), id, index, ci, { ...part, refusal: '' }));
    if (refusal) out.push(E.refusalDelta(seq(), id, index, ci, refusal));
    out.push(E.refusalDone(seq(), id, index, ci, refusal));
  } else {
    out.push(E.partAdded(seq(), id, index, ci, part));
  }
  out.push(E.partDone(seq(), id, index, ci, part));
}
