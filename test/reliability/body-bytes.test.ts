// Bodies leave as bytes: a JSON or SSE body longer than 16,384 UTF-16 code units with characters
// outside the BMP (emoji: two code units each) comes back byte for byte. A writer that slices a
// string body by UTF-16 code units (middy 7's, which we used before, took 16,384-unit slices, each
// encoded to UTF-8 on its own) turns an emoji cut in two into two U+FFFD; the same would happen
// under the real Lambda runtime (test/lambda-runtime/).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sseEvents, startSystem, type System } from '../helpers/harness.ts';
import { emojiText } from '../lambda-runtime/bodies.ts';

let sys: System;
const model = 'test-model';

beforeAll(async () => {
  sys = await startSystem({ upstreams: [{ flavor: 'ollama', models: [`${model}:latest`] }] });
});
afterAll(() => sys.close());

async function post(body: unknown): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(`${sys.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('bodies longer than 16,384 code units with emoji', () => {
  const text = emojiText();

  it('a JSON response comes back byte-exact', async () => {
    sys.upstreams[0]!.script({ text });
    const { status, bytes } = await post({ model, input: 'emoji please' });
    expect(status).toBe(200);
    expect(bytes.includes(Buffer.from('\uFFFD'))).toBe(false);
    const json = JSON.parse(bytes.toString('utf8'));
    expect(json.output_text).toBe(text);
    // Byte-exact: the body is exactly the UTF-8 of its own JSON.
    expect(bytes.equals(Buffer.from(JSON.stringify(json)))).toBe(true);
  });

  it('a stored response read back and a streamed one come back intact', async () => {
    sys.upstreams[0]!.script({ text, chunkSize: 5_000 });
    const { bytes } = await post({ model, input: 'emoji please', stream: true });
    expect(bytes.includes(Buffer.from('\uFFFD'))).toBe(false);
    const events = sseEvents(bytes.toString('utf8'));
    const done = events.at(-1)!.data;
    expect(done.type).toBe('response.completed');
    expect(done.response.output[0].content[0].text).toBe(text);

    const read = await fetch(`${sys.base}/responses/${done.response.id}`);
    const readBytes = Buffer.from(await read.arrayBuffer());
    expect(readBytes.includes(Buffer.from('\uFFFD'))).toBe(false);
    expect(JSON.parse(readBytes.toString('utf8')).output_text).toBe(text);
  });
});
