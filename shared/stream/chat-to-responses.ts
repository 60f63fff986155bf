// Chat Completions chunks -> the Responses event lifecycle, one chunk at a time.
//
// One output item is open at a time, as OpenAI streams them: reasoning, message and each
// function call get added -> deltas -> done, and a new kind of delta closes the open item first.
// Deltas mutate the live items in place; only lifecycle events copy the whole response.
import { newId as randomId, type IdPrefix } from '../protocol/ids.ts';
import type {
  ChatChunk, ChatToolCallDelta, ChatUsage, MessageItem, OutputText, ReasoningItem,
  Refusal, ResponseError, ResponseObject, StreamEvent,
} from '../protocol/types.ts';
import * as E from './events.ts';
import { usageChatToResponses } from '../translate/usage.ts';
import type { ToolPlan } from '../translate/tools.ts';
import { callFragment, finishCall, startCall, type OpenCall, type ToolCall } from './chat-tool-calls.ts';

export interface TranslatorOptions {
  /** Our base object: our id, model, echoed request fields, status, output []. */
  response: ResponseObject;
  /** The first sequence number to stamp (default 0), for streams resumed after earlier events. */
  nextSequence?: number;
  newId?: (prefix: IdPrefix) => string;
  /** Clock in epoch ms (default Date.now), for completed_at. */
  now?: () => number;
  /** The stream's response.created was already sent (a background run continuing its log). */
  started?: boolean;
  /** The request's tools as the model saw them: its calls go back to custom and namespaced tools. */
  tools?: ToolPlan;
  /** Seals a finished reasoning item's text into its `encrypted_content` (include: reasoning.encrypted_content). */
  sealReasoning?: (text: string) => string;
}

type ItemStatus = 'completed' | 'incomplete';

interface OpenMessage { kind: 'message'; index: number; item: MessageItem; part: OutputText | Refusal | null }
interface OpenReasoning { kind: 'reasoning'; index: number; item: ReasoningItem; part: { type: 'reasoning_text'; text: string } }
type Open = OpenMessage | OpenReasoning | OpenCall;

const isBlank = (s: string) => s.trim().length === 0;

export class ChatStreamTranslator {
  private readonly res: ResponseObject;
  private seq: number;
  private readonly newId: (prefix: IdPrefix) => string;
  private readonly now: () => number;
  private started = false;
  private done = false;
  private cur: Open | null = null;
  private readonly calls = new Map<number, ToolCall>();
  /** Whitespace between items (e.g. after a tool call) is held back so it opens no message of its own. */
  private heldText = '';
  private usage: ChatUsage | null = null;
  private finish: string | null = null;
  private readonly tools: ToolPlan | undefined;
  private readonly seal: ((text: string) => string) | undefined;
  private readonly nextSeq = () => this.seq++;

  constructor(opts: TranslatorOptions) {
    this.res = { ...opts.response, output: [...opts.response.output] };
    this.seq = opts.nextSequence ?? 0;
    this.newId = opts.newId ?? randomId;
    this.now = opts.now ?? Date.now;
    this.started = opts.started ?? false;
    this.tools = opts.tools;
    this.seal = opts.sealReasoning;
  }

  get response(): ResponseObject { return E.snapshotOf(this.res); }
  get finished(): boolean { return this.done; }
  get finishReason(): string | null { return this.finish; }
  /** The sequence number the next event will carry. */
  get nextSequence(): number { return this.seq; }

  created(): StreamEvent[] {
    if (this.done) return [];
    this.started = true;
    return [E.lifecycle(this.seq++, 'response.created', this.res)];
  }

  queued(): StreamEvent[] {
    if (this.done) return [];
    this.res.status = 'queued';
    return [E.lifecycle(this.seq++, 'response.queued', this.res)];
  }

  inProgress(): StreamEvent[] {
    if (this.done) return [];
    this.res.status = 'in_progress';
    return [E.lifecycle(this.seq++, 'response.in_progress', this.res)];
  }

  push(chunk: ChatChunk): StreamEvent[] {
    if (this.done) return [];
    const out: StreamEvent[] = [];
    this.start(out);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0]; // we ask for n = 1; a usage-only chunk has no choices
    if (!choice) return out;
    const d = choice.delta;
    if (d) {
      // vLLM may send both fields with the same text while it migrates names: take one.
      const reasoning = d.reasoning_content || d.reasoning;
      if (reasoning) this.reasoningDelta(reasoning, out);
      if (d.content) this.textDelta('output_text', d.content, out);
      if (d.refusal) this.textDelta('refusal', d.refusal, out);
      if (d.tool_calls) for (const tc of d.tool_calls) this.toolDelta(tc, out);
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  /**
   * Closes the open item and emits the terminal event. `cut`: the upstream connection ended
   * without its end marker; with no finish_reason seen either, that is a failure.
   */
  end(opts: { cut?: boolean } = {}): StreamEvent[] {
    if (this.done) return [];
    if (opts.cut && this.finish === null) {
      return this.fail({ code: 'server_error', message: 'upstream stream ended before the response completed' });
    }
    const out: StreamEvent[] = [];
    this.start(out);
    const reason = this.finish === 'length' ? 'max_output_tokens' : this.finish === 'content_filter' ? 'content_filter' : null;
    const status = reason ? 'incomplete' : 'completed';
    // Calls whose name never came are still sent: the client sees what the model produced.
    for (const call of this.calls.values()) if (!call.open && !call.closed && (call.args || call.id)) this.openCall(call, out, status);
    if (this.heldText && this.res.output.length === 0) this.flushHeld(out);
    this.close(status, out);
    this.res.status = status;
    this.res.completed_at = reason ? null : Math.floor(this.now() / 1000);
    this.res.incomplete_details = reason ? { reason } : null;
    return this.terminate(reason ? 'response.incomplete' : 'response.completed', out);
  }

  /** Ends the response as failed: open items close as incomplete (their done events keep clients' accumulators whole). */
  fail(error: ResponseError): StreamEvent[] {
    if (this.done) return [];
    const out: StreamEvent[] = [];
    this.start(out);
    this.close('incomplete', out);
    this.res.status = 'failed';
    this.res.error = { code: error.code, message: error.message };
    this.res.completed_at = null;
    return this.terminate('response.failed', out);
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /** A caller that skipped created() still gets a stream clients accept. */
  private start(out: StreamEvent[]): void {
    if (this.started) return;
    out.push(...this.created(), ...this.inProgress());
  }

  private terminate(type: E.LifecycleType, out: StreamEvent[]): StreamEvent[] {
    this.res.usage = usageChatToResponses(this.usage) ?? this.res.usage;
    this.done = true;
    out.push(E.lifecycle(this.seq++, type, this.res));
    return out;
  }

  private reasoningDelta(text: string, out: StreamEvent[]): void {
    let cur = this.cur;
    if (cur?.kind !== 'reasoning') {
      this.close('completed', out);
      const id = this.newId('rs');
      const index = this.res.output.length;
      const part = { type: 'reasoning_text' as const, text: '' };
      const item: ReasoningItem = { type: 'reasoning', id, summary: [], content: [part], status: 'in_progress' };
      this.res.output.push(item);
      out.push(
        E.itemAdded(this.seq++, index, { type: 'reasoning', id, summary: [], content: [], status: 'in_progress' }),
        E.partAdded(this.seq++, id, index, 0, { type: 'reasoning_text', text: '' }),
      );
      cur = this.cur = { kind: 'reasoning', index, item, part };
    }
    cur.part.text += text;
    out.push(E.reasoningDelta(this.seq++, cur.item.id, cur.index, 0, text));
  }

  private textDelta(type: 'output_text' | 'refusal', text: string, out: StreamEvent[]): void {
    if (this.cur?.kind !== 'message') {
      if (isBlank(text)) { this.heldText += text; return; }
      if (this.heldText) { text = this.heldText + text; this.heldText = ''; }
    }
    const msg = this.openMessage(out);
    if (msg.part?.type !== type) this.openPart(msg, type, out);
    const ci = msg.item.content.length - 1;
    if (type === 'output_text') {
      (msg.part as OutputText).text += text;
      out.push(E.textDelta(this.seq++, msg.item.id, msg.index, ci, text));
    } else {
      (msg.part as Refusal).refusal += text;
      out.push(E.refusalDelta(this.seq++, msg.item.id, msg.index, ci, text));
    }
  }

  /** A response of nothing but whitespace is still the response. */
  private flushHeld(out: StreamEvent[]): void {
    const text = this.heldText;
    this.heldText = '';
    const msg = this.openMessage(out);
    this.openPart(msg, 'output_text', out);
    (msg.part as OutputText).text += text;
    out.push(E.textDelta(this.seq++, msg.item.id, msg.index, 0, text));
  }

  private openMessage(out: StreamEvent[]): OpenMessage {
    if (this.cur?.kind === 'message') return this.cur;
    this.close('completed', out);
    const id = this.newId('msg');
    const index = this.res.output.length;
    const item: MessageItem = { type: 'message', id, status: 'in_progress', content: [], role: 'assistant' };
    this.res.output.push(item);
    out.push(E.itemAdded(this.seq++, index, { type: 'message', id, status: 'in_progress', content: [], role: 'assistant' }));
    return (this.cur = { kind: 'message', index, item, part: null });
  }

  private openPart(msg: OpenMessage, type: 'output_text' | 'refusal', out: StreamEvent[]): void {
    this.closePart(msg, out);
    const part: OutputText | Refusal = type === 'output_text'
      ? { type: 'output_text', annotations: [], logprobs: [], text: '' }
      : { type: 'refusal', refusal: '' };
    msg.item.content.push(part);
    msg.part = part;
    const fresh = type === 'output_text' ? { type, annotations: [], logprobs: [], text: '' } : { type, refusal: '' };
    out.push(E.partAdded(this.seq++, msg.item.id, msg.index, msg.item.content.length - 1, fresh));
  }

  private closePart(msg: OpenMessage, out: StreamEvent[]): void {
    const part = msg.part;
    if (!part) return;
    const ci = msg.item.content.length - 1;
    if (part.type === 'output_text') out.push(E.textDone(this.seq++, msg.item.id, msg.index, ci, part.text));
    else out.push(E.refusalDone(this.seq++, msg.item.id, msg.index, ci, part.refusal));
    out.push(E.partDone(this.seq++, msg.item.id, msg.index, ci, { ...part }));
    msg.part = null;
  }

  private toolDelta(tc: ChatToolCallDelta, out: StreamEvent[]): void {
    const key = tc.index ?? 0;
    let call = this.calls.get(key);
    // Some servers (older Ollama) send each whole call at index 0: a new id means a new call.
    if (call && tc.id && call.id && tc.id !== call.id) call = undefined;
    if (!call) {
      call = { id: '', name: '', args: '', open: null, closed: false };
      this.calls.set(key, call);
    }
    // A fragment for a call already closed (another item opened since) cannot be sent validly any
    // more; no server we know interleaves calls, so it is dropped.
    if (call.closed) return;
    if (tc.id && !call.id) call.id = tc.id;
    const name = tc.function?.name;
    if (name && !call.name) call.name = name;
    // A few servers send arguments as a JSON object rather than a string.
    const raw: unknown = tc.function?.arguments;
    const args = typeof raw === 'string' ? raw : raw == null ? '' : JSON.stringify(raw);
    if (!call.open) {
      // Announce the call only once its name is known (it may come after the first fragment).
      if (args) call.args += args;
      if (call.name) this.openCall(call, out);
    } else if (args) {
      callFragment(call.open, args, this.nextSeq, out);
    }
  }

  private openCall(call: ToolCall, out: StreamEvent[], closeStatus: ItemStatus = 'completed'): void {
    this.close(closeStatus, out);
    const index = this.res.output.length;
    this.cur = call.open = startCall(call, index, this.tools?.target(call.name), this.newId, this.nextSeq, out);
    this.res.output.push(call.open.item);
  }

  /** Emits the done events of the open item, if any. */
  private close(status: ItemStatus, out: StreamEvent[]): void {
    const cur = this.cur;
    if (!cur) return;
    this.cur = null;
    const { index } = cur;
    switch (cur.kind) {
      case 'message':
        this.closePart(cur, out);
        break;
      case 'reasoning':
        out.push(
          E.reasoningDone(this.seq++, cur.item.id, index, 0, cur.part.text),
          E.partDone(this.seq++, cur.item.id, index, 0, { ...cur.part }),
        );
        if (this.seal) cur.item.encrypted_content = this.seal(cur.part.text);
        break;
      case 'call':
        finishCall(cur, this.nextSeq, out);
        break;
    }
    cur.item.status = status;
    // The item is final from here on, so the event may share it.
    out.push(E.itemDone(this.seq++, index, cur.item));
  }
}
