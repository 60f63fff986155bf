// The fake upstream of the benches, in a process of its own (so the gateway's CPU and memory are
// the gateway's alone). Run: node_modules/.bin/node --import tsx bench/upstream.ts   -> prints {"url": ...} once up.
//
// The reply is chosen by the model name, so no control channel is needed:
//   chat:latest       a 60-word answer (about 330 characters; streamed in 4-character deltas)
//   s<N>x<D>:latest   a stream of N one-word deltas, D ms apart (s1000x0: a burst of 1,000)
import { fileURLToPath } from 'node:url';
import { startFakeUpstream, type Reply } from '../test/helpers/fake-upstream.ts';

export const CHAT_TEXT = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
export const BENCH_MODELS = ['chat:latest', 's10x0:latest', 's1000x0:latest', 's50x2:latest', 's100x20:latest', 's200x10:latest', 's100x50:latest', 's100x100:latest'];

export function replyFor(model: string): Reply {
  const m = /^s(\d+)x(\d+)(?::latest)?$/.exec(model);
  if (m) return { deltas: Array.from({ length: Number(m[1]) }, (_, i) => `tok${i} `), chunkDelayMs: Number(m[2]) };
  return { text: CHAT_TEXT };
}

if (fileURLToPath(import.meta.url) === process.argv[1]) {
  const up = await startFakeUpstream({ flavor: 'ollama', models: BENCH_MODELS });
  up.fallback = (rec) => replyFor(String(rec.body?.model ?? ''));
  // The fake records every request for tests; a bench sends tens of thousands.
  setInterval(() => { up.requests.length = 0; }, 500).unref();
  process.stdout.write(`${JSON.stringify({ url: up.url })}\n`);
  const stop = () => { void up.close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop); // the parent went away
  process.stdin.resume();
}
