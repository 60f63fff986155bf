// Socket writes and other system calls the gateway makes per request, counted with
// `strace -f -c` attached to the server process (npm start with no concurrency limit: no slot
// lease and, store off, no DynamoDB write, so only the gateway's own calls are counted). Counts,
// not timings.
// Run: node_modules/.bin/node --import tsx bench/syscalls.ts [--stream] [tree]   (tree: another copy of the repository, to
// compare before/after a change; needs strace)
import { spawn } from 'node:child_process';
import { GATEWAY_CONFIG, load, sleep, spawnGateway, spawnUpstream } from './lib.ts';
import { gatewayBody } from './latency.ts';

const stream = process.argv.includes('--stream');
const root = process.argv.slice(2).find((a) => !a.startsWith('--'));
const n = stream ? 10 : 500;
const up = await spawnUpstream();
const gw = await spawnGateway({ upstreamUrl: up.url, extraConfig: GATEWAY_CONFIG, root });
try {
  const url = `${gw.url}/v1/responses`;
  const body = () => (stream ? gatewayBody('s1000x0', false, true) : gatewayBody('chat', false));
  await load({ concurrency: 4, maxRequests: stream ? 5 : 300, maxMs: 30_000, url, body });
  const st = spawn('strace', ['-f', '-c', '-p', String(gw.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  st.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  await sleep(1000); // attached to every thread
  const r = await load({ concurrency: 4, maxRequests: n, maxMs: 60_000, url, body });
  st.kill('SIGINT');
  await new Promise((res) => st.once('exit', res));
  console.log(`${r.count} ${stream ? 'streams of 1,000 deltas' : 'non-stream requests'} (4 clients), tree ${root ?? '.'}; strace -f -c of the gateway:`);
  console.log(out.split('\n').filter((l) => /calls|write|read|epoll|total/.test(l)).join('\n'));
} finally {
  await gw.stop();
  await up.stop();
}
