// A stand-in for Step Functions' StartExecution / StopExecution (AWS itself cannot run here), for
// the bundles under the real runtime and the benches that run them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StartExecution { stateMachineArn: string; name: string; input: string }

/** Step Functions' StartExecution / StopExecution (JSON 1.0 protocol), recorded. */
export async function startFakeStepFunctions(): Promise<{ url: string; started: StartExecution[]; close(): Promise<void> }> {
  const started: StartExecution[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      const target = String(req.headers['x-amz-target'] ?? '');
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      if (target.endsWith('.StartExecution')) {
        started.push(body);
        res.end(JSON.stringify({ executionArn: `${body.stateMachineArn.replace(':stateMachine:', ':execution:')}:${body.name}`, startDate: Date.now() / 1000 }));
      } else res.end(JSON.stringify({ stopDate: Date.now() / 1000 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    started,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
