// Server-sent events: the frame format both protocols stream in. Pure string work, no I/O.
import type { StreamEvent } from '../protocol/types.ts';

/** One dispatched SSE frame. `[DONE]` sentinels come through as data '[DONE]'. */
export interface SseFrame {
  event?: string;
  data: string;
}

/** `event: <type>\ndata: <json>\n\n`. JSON.stringify escapes newlines, so one data line suffices. */
export const encodeEvent = (ev: StreamEvent): string => `event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`;

const LINE_BREAK = /\r\n|\r|\n/g;

/**
 * Incremental SSE parser (WHATWG rules): frames may be split anywhere across pushes, lines end in
 * `\n`, `\r\n` or `\r`, `data:` lines of one frame join with `\n`, `:` lines are comments.
 * `id:` and `retry:` are ignored: nothing we talk to resumes by them.
 */
export class SseDecoder {
  private rest = '';
  private started = false;
  /** The previous chunk ended in `\r`: a `\n` opening the next one belongs to that line break. */
  private skipLf = false;
  private event: string | undefined;
  private data: string[] = [];

  push(text: string): SseFrame[] {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.skipLf && text.length > 0) {
      this.skipLf = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    const buf = this.rest.length > 0 ? this.rest + text : text;
    const out: SseFrame[] = [];
    let start = 0;
    if (buf.indexOf('\r') < 0) {
      // Every server we talk to ends lines in `\n` alone: indexOf beats the regex by far.
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n', start)) {
        this.line(buf.slice(start, i), out);
        start = i + 1;
      }
      this.rest = start === 0 ? buf : buf.slice(start);
      return out;
    }
    LINE_BREAK.lastIndex = 0;
    for (let m = LINE_BREAK.exec(buf); m !== null; m = LINE_BREAK.exec(buf)) {
      // A lone `\r` at the very end may be the first half of a `\r\n` split across pushes.
      if (m[0] === '\r' && m.index === buf.length - 1) this.skipLf = true;
      this.line(buf.slice(start, m.index), out);
      start = m.index + m[0].length;
    }
    this.rest = start === 0 ? buf : buf.slice(start);
    return out;
  }

  /** Flushes the last line and a frame left without its closing blank line (lenient, as browsers are not). */
  end(): SseFrame[] {
    const out: SseFrame[] = [];
    if (this.rest.length > 0) this.line(this.rest, out);
    this.rest = '';
    this.dispatch(out);
    return out;
  }

  private line(line: string, out: SseFrame[]): void {
    if (line.length === 0) return this.dispatch(out);
    if (line.startsWith('data: ')) {
      this.data.push(line.slice(6));
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }

  private dispatch(out: SseFrame[]): void {
    // Per the SSE rules a frame without data is not an event (an `event:` line alone is dropped).
    if (this.data.length > 0) {
      const frame: SseFrame = { data: this.data.length === 1 ? this.data[0]! : this.data.join('\n') };
      if (this.event !== undefined && this.event !== '') frame.event = this.event;
      out.push(frame);
    }
    this.event = undefined;
    this.data = [];
  }
}

/** A whole SSE body at once (tests, recorded fixtures). */
export function parseSse(text: string): SseFrame[] {
  const d = new SseDecoder();
  return [...d.push(text), ...d.end()];
}
