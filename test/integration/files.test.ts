// input_file over HTTP: an Ollama endpoint (files as text, the default) gets the file's text with
// its name, a PDF's text read from the PDF; an endpoint configured `files: parts` gets Chat file
// parts as before; what the client sent is what is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, startSystem, type System } from '../helpers/harness.ts';
import { makePdf } from '../helpers/pdf.ts';

let sys: System;
const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const pdf = `data:application/pdf;base64,${b64(makePdf([['Invoice 42', 'Total: 99 EUR']]))}`;
const input = [{
  role: 'user',
  content: [
    { type: 'input_text', text: 'Compare these.' },
    { type: 'input_file', filename: 'notes.txt', file_data: `data:text/plain;base64,${b64('buy milk')}` },
    { type: 'input_file', filename: 'invoice.pdf', file_data: pdf },
  ],
}];
const lastChat = (i: number) => sys.upstreams[i]!.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)!.body;

beforeAll(async () => {
  sys = await startSystem({
    upstreams: [{ flavor: 'ollama' }, { flavor: 'vllm', models: ['hosted-model'] }],
    endpointLine: (u) => (u.flavor === 'ollama' ? `"${u.url}"` : `{ url: "${u.url}", type: chat, files: parts }`),
  });
});
afterAll(() => sys.close());

describe('input_file on Chat backends', () => {
  it('reaches Ollama as text with the file names, the PDF as its text; the stored input keeps the files', async () => {
    sys.upstreams[0]!.script({ text: 'ok' });
    const res = await postJson(`${sys.base}/responses`, { model: 'llama3.2', input });
    expect(res.status).toBe(200);
    expect(lastChat(0).messages).toEqual([{
      role: 'user',
      content: [
        { type: 'text', text: 'Compare these.' },
        { type: 'text', text: '<file name="notes.txt">\nbuy milk\n</file>' },
        { type: 'text', text: '<file name="invoice.pdf">\nInvoice 42\nTotal: 99 EUR\n</file>' },
      ],
    }]);
    const items = await getJson(`${sys.base}/responses/${res.json.id}/input_items`);
    expect(items.json.data[0].content[2]).toMatchObject({ type: 'input_file', filename: 'invoice.pdf', file_data: pdf });
  });

  it('reaches an endpoint configured `files: parts` as Chat file parts', async () => {
    sys.upstreams[1]!.script({ text: 'ok' });
    const res = await postJson(`${sys.base}/responses`, { model: 'hosted-model', input });
    expect(res.status).toBe(200);
    expect(lastChat(1).messages[0].content[2]).toEqual({ type: 'file', file: { file_data: pdf, filename: 'invoice.pdf' } });
  });

  it('refuses a file Ollama cannot read, naming it', async () => {
    const res = await postJson(`${sys.base}/responses`, {
      model: 'llama3.2', input: [{ role: 'user', content: [{ type: 'input_file', filename: 'a.zip', file_data: `data:application/zip;base64,${b64('PK')}` }] }],
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ param: 'input[0].content[0]', message: expect.stringMatching(/'a.zip' cannot be given to this backend/) });
  });
});
