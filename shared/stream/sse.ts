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

/** An upstream event (or one line of it) outgrew the decoder's limit: the stream cannot go on. */
export class SseEventTooLarge extends Error {
  override readonly name = 'SseEventTooLarge';
  constructor(readonly limit: number) {
    super(`a stream event is larger than the limit of ${limit} characters`);
  }
}

/**
 * Incremental SSE parser (WHATWG rules): frames may be split anywhere across pushes, lines end in
 * `\n`, `\r\n` or `\r`, `data:` lines of one frame join with `\n`, `:` lines are comments.
 * `id:` and `retry:` are ignored: nothing we talk to resumes by them.
 *
 * Linear in the text pushed: each push scans only its own text, and a line split across pushes
 * is kept as pieces joined once, when it ends (re-joining and rescanning it on every push made one
 * long line quadratic). An event (its data lines and the line being read) longer than
 * `maxEventChars` throws SseEventTooLarge, so memory stays bounded whatever the upstream sends.
 */
export class SseDecoder {
  /** The line being read, in pieces (it spans pushes). */
  private pieces: string[] = [];
  private piecesLength = 0;
  private started = false;
  /** The previous chunk ended in `\r`: a `\n` opening the next one belongs to that line break. */
  private skipLf = false;
  private event: string | undefined;
  private data: string[] = [];
  private dataLength = 0;

  constructor(private readonly maxEventChars = Number.POSITIVE_INFINITY) {}

  push(text: string): SseFrame[] {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.skipLf && text.length > 0) {
      this.skipLf = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    const out: SseFrame[] = [];
    let start = 0;
    if (text.indexOf('\r') < 0) {
      // Every server we talk to ends lines in `\n` alone: indexOf beats the regex by far.
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
        this.endLine(text.slice(start, i), out);
        start = i + 1;
      }
    } else {
      LINE_BREAK.lastIndex = 0;
      for (let m = LINE_BREAK.exec(text); m !== null; m = LINE_BREAK.exec(text)) {
        // A lone `\r` at the very end may be the first half of a `\r\n` split across pushes.
        if (m[0] === '\r' && m.index === text.length - 1) this.skipLf = true;
        this.endLine(text.slice(start, m.index), out);
        start = m.index + m[0].length;
      }
    }
    if (start < text.length) {
      const rest = start === 0 ? text : text.slice(start);
      this.pieces.push(rest);
      this.piecesLength += rest.length;
      this.checkSize();
    }
    return out;
  }

  /** Flushes the last line and a frame left without its closing blank line (lenient, as browsers are not). */
  end(): SseFrame[] {
    const out: SseFrame[] = [];
    if (this.pieces.length > 0) this.endLine('', out);
    this.dispatch(out);
    return out;
  }

  /** A line ends with `tail`: it is the pieces kept so far and the tail. */
  private endLine(tail: string, out: SseFrame[]): void {
    if (this.pieces.length === 0) return this.line(tail, out);
    this.pieces.push(tail);
    const line = this.pieces.join('');
    this.pieces = [];
    this.piecesLength = 0;
    this.line(line, out);
  }

  private checkSize(): void {
    if (this.dataLength + this.piecesLength > this.maxEventChars) throw new SseEventTooLarge(this.maxEventChars);
  }

  private line(line: string, out: SseFrame[]): void {
    if (line.length === 0) return this.dispatch(out);
    if (line.startsWith('data: ')) return this.addData(line.slice(6));
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.addData(value);
    else if (field === 'event') this.event = value;
  }

  private addData(value: string): void {
    this.data.push(value);
    this.dataLength += value.length + 1;
    this.checkSize();
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
    this.dataLength = 0;
  }
}

/** A whole SSE body at once (tests, recorded fixtures). */
export function parseSse(text: string): SseFrame[] {
  const d = new SseDecoder();
  return [...d.push(text), ...d.end()];
}
