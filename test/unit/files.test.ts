// input_file for Chat backends that take files as text: text-like files inlined with their name,
// PDFs read by the real PDF reader (unpdf), images as image parts, anything else refused naming it.
import { describe, expect, it } from 'vitest';
import { pdfReader } from '../../shared/adapters/pdf-text.ts';
import { TranslationError } from '../../shared/translate/index.ts';
import { decodeFileData, fileKind } from '../../shared/translate/files.ts';
import { filesAsText, MAX_PDF_CHARS } from '../../shared/service/chat-files.ts';
import { makePdf } from '../helpers/pdf.ts';

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const file = (filename: string | undefined, data: string) => ({ type: 'input_file', ...(filename ? { filename } : {}), file_data: data });
const user = (...content: unknown[]) => ({ role: 'user', content });
const asText = (items: unknown[], max?: number) => filesAsText(items as never, pdfReader, (i) => `input[${i}]`, max);

async function refusal(items: unknown[]): Promise<TranslationError> {
  try { await asText(items); } catch (err) { if (err instanceof TranslationError) return err; throw err; }
  throw new Error('expected a 400');
}

describe('what a file is', () => {
  it('decodes data URLs (base64 or not) and bare base64', () => {
    expect(decodeFileData(`data:text/csv;base64,${b64('a,b')}`)).toEqual({ mime: 'text/csv', bytes: Buffer.from('a,b') });
    expect(decodeFileData('data:text/plain,hi%20there')).toEqual({ mime: 'text/plain', bytes: Buffer.from('hi there') });
    expect(decodeFileData(b64('raw'))).toEqual({ mime: null, bytes: Buffer.from('raw') });
  });

  it.each([
    ['text/markdown', 'x', 'text'], ['application/json', 'x', 'text'], ['application/vnd.api+json', 'x', 'text'],
    ['application/octet-stream', 'main.py', 'text'], ['application/pdf', 'x', 'pdf'], ['application/octet-stream', 'a.PDF', 'pdf'],
    ['image/png', 'x', 'image'], ['application/zip', 'x.zip', 'binary'],
  ])('%s named %s is %s', (mime, name, kind) => {
    expect(fileKind({ mime, bytes: Buffer.from('\x00\x01') }, name)).toBe(kind);
  });

  it('sniffs UTF-8 text when neither type nor name says', () => {
    expect(fileKind({ mime: null, bytes: Buffer.from('plain words') }, null)).toBe('text');
    expect(fileKind({ mime: null, bytes: Buffer.from([0xff, 0x00, 0x12]) }, null)).toBe('binary');
  });
});

describe('filesAsText', () => {
  it('inlines text files with their name, in messages and tool outputs, leaving the rest as it was', async () => {
    const items = [
      user({ type: 'input_text', text: 'Summarize' }, file('notes.md', `data:text/markdown;base64,${b64('# Notes\nä')}`)),
      { type: 'function_call_output', call_id: 'c', output: [file('out.csv', `data:application/octet-stream;base64,${b64('a,b')}`)] },
      user({ type: 'input_text', text: 'no files here' }),
    ];
    const out = await asText(items);
    expect(out[0]).toEqual(user({ type: 'input_text', text: 'Summarize' }, { type: 'input_text', text: '<file name="notes.md">\n# Notes\nä\n</file>' }));
    expect(out[1]).toEqual({ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text', text: '<file name="out.csv">\na,b\n</file>' }] });
    expect(out[2]).toBe(items[2]);
    expect((items[0] as { content: unknown[] }).content[1]).toMatchObject({ type: 'input_file' }); // the caller's items are not changed
  });

  it('turns a PDF into its text, page by page', async () => {
    const pdf = makePdf([['Quarterly report', 'Revenue grew (a lot)'], ['Page two text']]);
    const [item] = await asText([user(file('report.pdf', `data:application/pdf;base64,${b64(pdf)}`))]);
    expect((item as { content: Array<{ text: string }> }).content[0]!.text).toBe('<file name="report.pdf">\nQuarterly report\nRevenue grew (a lot)\n\nPage two text\n</file>');
  });

  it('stops reading a PDF at what a model can read, and says so', async () => {
    const pdf = makePdf(Array.from({ length: 20 }, (_, p) => Array.from({ length: 50 }, (_, i) => `page ${p} line ${i} `.padEnd(90, 'abcdefghij'))));
    const [item] = await asText([user(file('big.pdf', `data:application/pdf;base64,${b64(pdf)}`))], 10_000);
    const text = (item as { content: Array<{ text: string }> }).content[0]!.text;
    expect(text.length).toBeLessThan(10_000 + 200);
    expect(text).toContain('page 2 line 0');
    expect(text).not.toContain('page 19');
    expect(text).toContain('[the rest of this PDF was left out: it has more than 10000 characters of text]');
    expect(MAX_PDF_CHARS).toBe(1_000_000); // what a request gets
  });

  it('gives an image sent as a file to the model as an image', async () => {
    const [item] = await asText([user(file('a.png', 'data:image/png;base64,iVBORw0KGgo='))]);
    expect((item as { content: unknown[] }).content[0]).toEqual({ type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' });
  });

  it.each([
    ['a binary file', file('a.zip', `data:application/zip;base64,${b64('PK\x03\x04')}`), /only text files and PDFs/],
    ['a broken PDF', file('bad.pdf', `data:application/pdf;base64,${b64('not a pdf')}`), /could not be read as a PDF/],
    ['a file URL', { type: 'input_file', file_url: 'https://example.com/a.pdf' }, /file URLs \(file_url\) are not fetched/],
    ['a file id', { type: 'input_file', file_id: 'file_1' }, /file ids \(file_id\)/],
  ])('refuses %s, naming the part', async (_name, part, message) => {
    const err = await refusal([user({ type: 'input_text', text: 'x' }), user({ type: 'input_text', text: 'y' }, part)]);
    expect(err.param).toBe('input[1].content[1]');
    expect(err.message).toMatch(message);
  });
});
