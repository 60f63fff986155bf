import { describe, expect, it } from 'vitest';
import { encodeEvent, parseSse, SseDecoder, type SseFrame } from '../../shared/stream/index.ts';

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
});
