// A custom tool's input as the model streams it: Chat arguments `{"input": "..."}` arriving in
// fragments, decoded into the raw text as far as it has come, so the client sees
// `response.custom_tool_call_input.delta` as the model writes. Anything not of that shape is
// held back and decoded whole at the end (translate/tools.ts customInputOf).
import { customInputOf } from '../translate/tools.ts';

const OPENING = /^\s*\{\s*"input"\s*:\s*"/;
/** What can still grow into OPENING. */
const OPENING_PREFIX = /^\s*(\{\s*("(i(n(p(u(t("\s*(:\s*)?)?)?)?)?)?)?)?)?$/;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

export class CustomInputDecoder {
  private raw = '';
  /** Where undecoded string characters start in `raw`; -1 before the opening, -2 once it cannot stream. */
  private pos = -1;
  private closed = false;
  private held = ''; // a high surrogate waiting for its pair
  private sent = '';

  /** Adds a fragment; returns the newly decoded text (may be ''). */
  push(fragment: string): string {
    this.raw += fragment;
    if (this.pos === -1) {
      const m = OPENING.exec(this.raw);
      if (m) this.pos = m[0].length;
      else if (!OPENING_PREFIX.test(this.raw)) this.pos = -2;
    }
    if (this.pos < 0 || this.closed) return '';
    let text = this.held;
    this.held = '';
    let i = this.pos;
    while (i < this.raw.length) {
      const c = this.raw[i]!;
      if (c === '"') { this.closed = true; i++; break; }
      if (c !== '\\') { text += c; i++; continue; }
      const e = this.raw[i + 1];
      if (e === undefined) break; // the escape continues in the next fragment
      if (e === 'u') {
        const hex = this.raw.slice(i + 2, i + 6);
        if (hex.length < 4) break;
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) { this.pos = -2; return ''; }
        text += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (ESCAPES[e] !== undefined) {
        text += ESCAPES[e];
        i += 2;
      } else {
        this.pos = -2; // not JSON: decoded whole at the end
        return '';
      }
    }
    this.pos = i;
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.held = text.slice(-1);
      text = text.slice(0, -1);
    }
    this.sent += text;
    return text;
  }

  /** The whole input, and what of it was not sent yet (empty when the stream went astray: `input` is what counts). */
  finish(): { input: string; rest: string } {
    // Cut off inside the string (the call ended early): what was decoded is the input.
    const input = this.pos >= 0 && !this.closed ? this.sent + this.held : customInputOf(this.raw);
    return { input, rest: input.startsWith(this.sent) ? input.slice(this.sent.length) : '' };
  }
}
