// A native Responses upstream's events, passed through with our identity: its response id and
// item ids become ours, our request fields are overlaid, sequence numbers are ours. The upstream
// runs with store: false, so nothing of its ids must reach the client.
import { idPrefixOf, newId as randomId, type IdPrefix } from '../protocol/ids.ts';
import { outputTextOf } from '../protocol/response.ts';
import { conformResponse } from '../protocol/response-shape.ts';
import { isObj, type JsonObject, type OutputItem, type ResponseError, type ResponseObject, type StreamEvent } from '../protocol/types.ts';
import * as E from './events.ts';

type NewId = (prefix: IdPrefix) => string;
type Item = JsonObject & { type: string; id?: string };

/**
 * Fields the upstream decides: what it produced, and the settings it ran with (it got them from
 * the client as sent, and knows its own defaults: its `tools` echo is OpenAI's normalized one).
 * Every other Response field is ours (from the base object: id, store, background, the chain,
 * the conversation, metadata); conformResponse fills any the upstream left out.
 */
const UPSTREAM_OWNED = new Set([
  'output', 'output_text', 'usage', 'status', 'error', 'incomplete_details', 'completed_at', 'model',
  'tools', 'tool_choice', 'parallel_tool_calls', 'text', 'reasoning', 'temperature', 'top_p', 'presence_penalty',
  'frequency_penalty', 'top_logprobs', 'truncation', 'max_output_tokens', 'max_tool_calls', 'service_tier',
]);

/** The item type an item-scoped event implies, for ids first seen on an event (not an item). */
function itemTypeOfEvent(type: string): string | undefined {
  if (type.startsWith('response.output_text.') || type.startsWith('response.refusal.')) return 'message';
  if (type.startsWith('response.function_call_arguments.')) return 'function_call';
  if (type.startsWith('response.custom_tool_call_input.')) return 'custom_tool_call';
  if (type.startsWith('response.reasoning')) return 'reasoning';
  return undefined;
}

/** Upstream ids -> ours, stable for the life of one response. */
class IdMapper {
  private readonly ids = new Map<string, string>();
  /** Our id per output index: items the upstream sent without an id get the one already shown. */
  private readonly byIndex = new Map<number, string>();
  constructor(private readonly newId: NewId) {}

  map(upstreamId: string, itemType: unknown, outputIndex?: number): string {
    let ours = this.ids.get(upstreamId);
    if (ours === undefined) this.ids.set(upstreamId, (ours = this.newId(idPrefixOf(itemType))));
    if (outputIndex !== undefined && !this.byIndex.has(outputIndex)) this.byIndex.set(outputIndex, ours);
    return ours;
  }

  item(item: Item, outputIndex: number | undefined): Item {
    const copy: Item = { ...item };
    const known = outputIndex === undefined ? undefined : this.byIndex.get(outputIndex);
    if (typeof item.id === 'string' && item.id !== '') copy.id = this.map(item.id, item.type);
    else copy.id = known ?? this.newId(idPrefixOf(item.type));
    if (outputIndex !== undefined) this.byIndex.set(outputIndex, copy.id);
    return copy;
  }

  /** The upstream object with our id, our fields overlaid and its items' ids mapped. */
  response(up: JsonObject, base: ResponseObject, fallbackOutput: () => OutputItem[]): ResponseObject {
    const out: JsonObject = {};
    for (const key of Object.keys(base)) out[key] = UPSTREAM_OWNED.has(key) && key in up ? up[key] : base[key];
    for (const key of Object.keys(up)) if (!(key in out)) out[key] = up[key];
    out.id = base.id;
    // The SDK too lets a lifecycle event omit output and uses what the stream built.
    const output = Array.isArray(up.output)
      ? (up.output as unknown[]).map((it, i) => (isObj(it) ? this.item(it as Item, i) : it) as OutputItem)
      : fallbackOutput();
    out.output = output;
    out.output_text = outputTextOf(output);
    return conformResponse(out as ResponseObject, base);
  }
}

/** The non-streaming path: one upstream Response object rewritten as ours. */
export function rewriteNativeResponse(upstream: JsonObject, base: ResponseObject, newId: NewId = randomId): ResponseObject {
  return new IdMapper(newId).response(upstream, base, () => []);
}

export interface NativeRewriterOptions {
  /** Our base object: our id and the request's echoed fields. */
  response: ResponseObject;
  nextSequence?: number;
  newId?: NewId;
  /** Clock in epoch ms (default Date.now): completed_at when the upstream leaves it out. */
  now?: () => number;
  /** The stream's response.created was already sent (a background run continuing its log). */
  started?: boolean;
}

export class NativeStreamRewriter {
  private readonly base: ResponseObject;
  private readonly ids: IdMapper;
  private seq: number;
  private res: ResponseObject;
  private started = false;
  private done = false;
  /** Items as the stream built them, by upstream output index (partial output for failures). */
  private readonly items = new Map<number, Item>();
  private readonly open = new Set<number>();
  /** Parts announced but not done, per output index: `c<content_index>` / `s<summary_index>`. */
  private readonly openParts = new Map<number, Set<string>>();
  /** Function and custom tool calls whose arguments / input done event was sent. */
  private readonly argsClosed = new Set<number>();
  private readonly now: () => number;

  constructor(opts: NativeRewriterOptions) {
    this.base = opts.response;
    this.now = opts.now ?? Date.now;
    this.ids = new IdMapper(opts.newId ?? randomId);
    this.seq = opts.nextSequence ?? 0;
    this.res = { ...opts.response, output: [] };
    this.started = opts.started ?? false;
  }

  get response(): ResponseObject {
    return E.snapshotOf(this.done ? this.res : { ...this.res, output: this.built() });
  }
  get finished(): boolean { return this.done; }
  get nextSequence(): number { return this.seq; }

  push(frame: { event?: string; data: JsonObject }): StreamEvent[] {
    const data = frame.data;
    if (this.done || !isObj(data)) return [];
    const type = typeof data.type === 'string' ? data.type : (frame.event ?? '');
    if (type === 'error' || frame.event === 'error') return this.fail(errorOf(data));

    const out: StreamEvent[] = [];
    if (type !== 'response.created') this.start(out);
    else this.started = true;
    const ev = { ...data, type } as StreamEvent;
    const oi = typeof ev.output_index === 'number' ? ev.output_index : undefined;

    if (isObj(ev.response)) {
      this.res = this.ids.response(ev.response, this.base, () => this.built());
      if (this.res.status === 'completed' && this.res.completed_at == null) this.res.completed_at = Math.floor(this.now() / 1000);
      // A detached copy: the event must not change when we update our state later.
      ev.response = E.snapshotOf(this.res);
      if (E.TERMINAL_EVENT_TYPES.has(type)) this.done = true;
    }
    if (isObj(ev.item)) ev.item = this.ids.item(ev.item as Item, oi);
    if (typeof ev.item_id === 'string') {
      ev.item_id = this.ids.map(ev.item_id, (oi !== undefined && this.items.get(oi)?.type) || itemTypeOfEvent(type), oi);
      if (oi !== undefined && type.startsWith('response.output_text.')) this.repairText(ev, oi, out);
    }
    this.track(ev, type, oi);
    ev.sequence_number = this.seq++;
    out.push(ev);
    return out;
  }

  /** The upstream ended; without its terminal event that is a failure. */
  end(_opts: { cut?: boolean } = {}): StreamEvent[] {
    if (this.done) return [];
    return this.fail({ code: 'server_error', message: 'upstream stream ended before the response completed' });
  }

  fail(error: ResponseError): StreamEvent[] {
    if (this.done) return [];
    const out: StreamEvent[] = [];
    this.start(out);
    for (const oi of [...this.open].sort((a, b) => a - b)) {
      const item = this.items.get(oi)!;
      this.closeParts(item, oi, out);
      if ('status' in item) item.status = 'incomplete';
      out.push(E.itemDone(this.seq++, oi, structuredClone(item) as OutputItem));
    }
    this.open.clear();
    this.res = { ...this.res, status: 'failed', error: { code: error.code, message: error.message }, completed_at: null, output: this.built() };
    this.done = true;
    out.push(E.lifecycle(this.seq++, 'response.failed', this.res));
    return out;
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /**
   * A failure while an item is open: its open parts (and a call's arguments) get their done
   * events first, so the item's done event is valid for strict clients (the openai SDK).
   */
  private closeParts(item: Item, oi: number, out: StreamEvent[]): void {
    const id = String(item.id);
    for (const key of [...(this.openParts.get(oi) ?? [])].sort()) {
      const index = Number(key.slice(1));
      if (key[0] === 's') {
        const part = ((item.summary as JsonObject[] | undefined)?.[index] ?? { type: 'summary_text', text: '' }) as JsonObject & { type: string };
        out.push(E.summaryDone(this.seq++, id, oi, index, String(part.text ?? '')));
        out.push(E.summaryPartDone(this.seq++, id, oi, index, structuredClone(part)));
        continue;
      }
      const part = ((item.content as JsonObject[] | undefined)?.[index] ?? { type: 'output_text', text: '' }) as JsonObject & { type: string };
      if (part.type === 'refusal') out.push(E.refusalDone(this.seq++, id, oi, index, String(part.refusal ?? '')));
      else if (part.type === 'reasoning_text') out.push(E.reasoningDone(this.seq++, id, oi, index, String(part.text ?? '')));
      else out.push(E.textDone(this.seq++, id, oi, index, String(part.text ?? '')));
      out.push(E.partDone(this.seq++, id, oi, index, structuredClone(part)));
    }
    this.openParts.delete(oi);
    if (item.type === 'function_call' && !this.argsClosed.has(oi)) {
      out.push(E.argsDone(this.seq++, id, oi, String(item.name ?? ''), String(item.arguments ?? '')));
    }
    if (item.type === 'custom_tool_call' && !this.argsClosed.has(oi)) out.push(E.customInputDone(this.seq++, id, oi, String(item.input ?? '')));
  }

  private partOpened(oi: number, key: string, open: boolean): void {
    if (!open) { this.openParts.get(oi)?.delete(key); return; }
    if (!this.openParts.has(oi)) this.openParts.set(oi, new Set());
    this.openParts.get(oi)!.add(key);
  }

  /** Clients need response.created first, even when the upstream failed before sending it. */
  private start(out: StreamEvent[]): void {
    if (this.started) return;
    this.started = true;
    out.push(E.lifecycle(this.seq++, 'response.created', { ...this.res, status: 'in_progress' }));
  }

  private built(): OutputItem[] {
    return [...this.items.keys()].sort((a, b) => a - b).map((i) => this.items.get(i)! as OutputItem);
  }

  /**
   * Text for an item or part the upstream never announced: announce it, so strict clients (the
   * openai SDK) accept the stream. OpenAI itself always announces; sloppier servers may not.
   */
  private repairText(ev: StreamEvent, oi: number, out: StreamEvent[]): void {
    const id = ev.item_id as string;
    if (!this.items.has(oi)) {
      const item: Item = { type: 'message', id, status: 'in_progress', content: [], role: 'assistant' };
      this.items.set(oi, item);
      this.open.add(oi);
      out.push(E.itemAdded(this.seq++, oi, { ...item, content: [] } as OutputItem));
    }
    const content = this.items.get(oi)!.content;
    const ci = typeof ev.content_index === 'number' ? ev.content_index : 0;
    if (ev.content_index === undefined) ev.content_index = 0;
    if (Array.isArray(content) && ci === content.length) {
      content.push({ type: 'output_text', annotations: [], logprobs: [], text: '' });
      this.partOpened(oi, `c${ci}`, true);
      out.push(E.partAdded(this.seq++, id, oi, ci, { type: 'output_text', annotations: [], logprobs: [], text: '' }));
    }
    if (ev.logprobs === undefined) ev.logprobs = [];
  }

  /** Keeps the partial output current; the events themselves pass through unchanged. */
  private track(ev: StreamEvent, type: string, oi: number | undefined): void {
    if (oi === undefined) return;
    if (type === 'response.output_item.added' && isObj(ev.item)) {
      this.items.set(oi, structuredClone(ev.item) as Item);
      this.open.add(oi);
      return;
    }
    if (type === 'response.output_item.done' && isObj(ev.item)) {
      this.items.set(oi, structuredClone(ev.item) as Item);
      this.open.delete(oi);
      this.openParts.delete(oi);
      return;
    }
    if (type === 'response.content_part.added' || type === 'response.content_part.done') this.partOpened(oi, `c${Number(ev.content_index ?? 0)}`, type.endsWith('added'));
    if (type === 'response.reasoning_summary_part.added' || type === 'response.reasoning_summary_part.done') this.partOpened(oi, `s${Number(ev.summary_index ?? 0)}`, type.endsWith('added'));
    if (type === 'response.function_call_arguments.done' || type === 'response.custom_tool_call_input.done') this.argsClosed.add(oi);
    const item = this.items.get(oi);
    if (!item) return;
    const ci = ev.content_index as number;
    const content = item.content as JsonObject[] | undefined;
    const delta = typeof ev.delta === 'string' ? ev.delta : '';
    switch (type) {
      case 'response.content_part.added':
        if (isObj(ev.part)) {
          if (!content) item.content = [];
          (item.content as unknown[]).push(structuredClone(ev.part));
        }
        break;
      case 'response.output_text.delta':
      case 'response.reasoning_text.delta':
        if (content?.[ci]) content[ci].text = String(content[ci].text ?? '') + delta;
        break;
      case 'response.refusal.delta':
        if (content?.[ci]) content[ci].refusal = String(content[ci].refusal ?? '') + delta;
        break;
      case 'response.function_call_arguments.delta':
        item.arguments = String(item.arguments ?? '') + delta;
        break;
      case 'response.custom_tool_call_input.delta':
        item.input = String(item.input ?? '') + delta;
        break;
      case 'response.reasoning_summary_part.added':
        if (Array.isArray(item.summary) && isObj(ev.part)) item.summary.push(structuredClone(ev.part));
        break;
      case 'response.reasoning_summary_text.delta': {
        const part = (item.summary as JsonObject[] | undefined)?.[ev.summary_index as number];
        if (part) part.text = String(part.text ?? '') + delta;
        break;
      }
    }
  }
}

/** Upstream `error` events come flat (`{code, message}`) or nested (`{error: {...}}`). */
function errorOf(data: JsonObject): ResponseError {
  const src = isObj(data.error) ? data.error : data;
  return {
    code: typeof src.code === 'string' && src.code ? src.code : 'server_error',
    message: typeof src.message === 'string' && src.message ? src.message : 'upstream error',
  };
}
