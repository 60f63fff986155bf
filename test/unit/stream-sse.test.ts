import { describe, expect, it } from 'vitest';
import { encodeEvent, parseSse, SseDecoder, SseEventTooLarge, type SseFrame } from '../../shared/stream/index.ts';

const BODY = 'event: a\ndata: {"x":1}\n\n: keep-alive comment\n\ndata: line1\ndata: line2\n\nevent: b\r\ndata:nospace\r\n\r\ndata: [DONE]\n\n';
const EXPECTED: SseFrame[] = [
  { event: 'a', data: '{"x":1}' },
  { data: 'line1\nline2' },
  { event: 'b', data: 'nospace' },
  { data: '[DONE]' },
];

describe('encodeEvent', () => {
  it('writes event and data lines and a blank line', () => {
    const text = encodeEvent({ type: 'response.output_text.delta', sequence_number: 3, delta: 'a\nb' });
    expect(text).toBe('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":3,"delta":"a\\nb"}\n\n');
    expect(parseSse(text).map((f) => JSON.parse(f.data))).toEqual([{ type: 'response.output_text.delta', sequence_number: 3, delta: 'a\nb' }]);
  });
});

describe('SseDecoder', () => {
  it('parses frames, comments, multi-line data, CRLF and [DONE]', () => {
    expect(parseSse(BODY)).toEqual(EXPECTED);
  });

  it('gives the same frames however the body is split', () => {
    for (let cut = 0; cut <= BODY.length; cut++) {
      const d = new SseDecoder();
      expect([...d.push(BODY.slice(0, cut)), ...d.push(BODY.slice(cut)), ...d.end()]).toEqual(EXPECTED);
    }
    const d = new SseDecoder();
    const frames = [...BODY].flatMap((ch) => d.push(ch));
    expect([...frames, ...d.end()]).toEqual(EXPECTED);
  });

  it('treats a \\r\\n split across pushes as one line break, and lone \\r as a break', () => {
    const d = new SseDecoder();
    expect(d.push('data: a\r')).toEqual([]);
    expect(d.push('\n\r')).toEqual([{ data: 'a' }]);
    expect(d.push('\ndata: b\r\rdata: c\r\r')).toEqual([{ data: 'b' }, { data: 'c' }]);
  });

  it('returns frames only once complete, and flushes an unterminated last frame at end()', () => {
    const d = new SseDecoder();
    expect(d.push('data: {"a"')).toEqual([]);
    expect(d.push(':1}\n')).toEqual([]);
    expect(d.push('\ndata: tail')).toEqual([{ data: '{"a":1}' }]);
    expect(d.end()).toEqual([{ data: 'tail' }]);
    expect(d.end()).toEqual([]);
  });

  it('drops frames without data, ignores id/retry/unknown fields, strips a BOM', () => {
    expect(parseSse('\uFEFFevent: only\n\nid: 7\nretry: 10\nfoo\ndata: x\n\n')).toEqual([{ data: 'x' }]);
  });

  it('keeps an empty data line as an empty string', () => {
    expect(parseSse('data:\n\ndata: \ndata:\n\n')).toEqual([{ data: '' }, { data: '\n' }]);
  });

  it('joins a line split over many pushes once, and keeps it whole', () => {
    const d = new SseDecoder();
    const piece = 'x'.repeat(16 * 1024);
    expect(d.push('data: ')).toEqual([]);
    for (let i = 0; i < 256; i++) expect(d.push(piece)).toEqual([]);
    const [frame] = d.push('\n\n');
    expect(frame!.data.length).toBe(256 * piece.length);
  });

  it('refuses an event longer than its limit, whether in one line, many lines or a line without end', () => {
    expect(() => new SseDecoder(100).push(`data: ${'a'.repeat(101)}\n`)).toThrow(SseEventTooLarge);
    const lines = new SseDecoder(100);
    expect(() => { for (let i = 0; i < 20; i++) lines.push('data: 0123456789\n'); }).toThrow(/larger than the limit of 100/);
    const endless = new SseDecoder(100);
    expect(() => { for (let i = 0; i < 20; i++) endless.push('0123456789'); }).toThrow(SseEventTooLarge);
    // Events under the limit, one after another, never add up.
    const many = new SseDecoder(100);
    for (let i = 0; i < 100; i++) expect(many.push(`data: ${'b'.repeat(90)}\n\n`)).toHaveLength(1);
  });
});
