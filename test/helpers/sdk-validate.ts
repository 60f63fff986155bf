// Runs an event stream through the real openai SDK (v7) so its strict stream validation judges
// it: a loopback server serves the SSE body to `client.responses.stream()`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { StreamEvent } from '../../shared/protocol/types.ts';
import { encodeEvent } from '../../shared/stream/sse.ts';

export interface SdkRun {
  /** What `stream.finalResponse()` resolved to. */
  response: Response;
  /** Every event the SDK emitted, in order. */
  events: ResponseStreamEvent[];
}

/** Serves one SSE body (a string as is, or events encoded) and lets the SDK consume it. */
export async function streamWithSdk(body: StreamEvent[] | string): Promise<SdkRun> {
  const text = typeof body === 'string' ? body : body.map(encodeEvent).join('');
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const client = new OpenAI({ apiKey: 'test', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0, timeout: 10_000 });
    const stream = client.responses.stream({ model: 'm', input: 'x' });
    const events: ResponseStreamEvent[] = [];
    stream.on('event', (ev) => events.push(ev));
    const response = await stream.finalResponse();
    return { response: response as Response, events };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The SDK's final Response for these events; rejects when the SDK finds the stream invalid. */
export async function validateWithSdk(events: StreamEvent[] | string): Promise<Response> {
  return (await streamWithSdk(events)).response;
}
