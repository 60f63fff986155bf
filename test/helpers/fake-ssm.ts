// A loopback server that answers SSM's JSON protocol (AmazonSSM.GetParameters) as SSM does, from
// a map of SecureStrings a test fills: what the functions read their upstream keys from in AWS.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSsm {
  endpoint: string;
  /** Parameter name (or ARN) -> value. */
  stored: Map<string, string>;
  calls: Array<{ target: string; body: { Names: string[]; WithDecryption?: boolean }; authorization: string }>;
  close(): Promise<void>;
}

export async function startFakeSsm(): Promise<FakeSsm> {
  const stored = new Map<string, string>();
  const calls: FakeSsm['calls'] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as FakeSsm['calls'][number]['body'];
      calls.push({ target: String(req.headers['x-amz-target']), body, authorization: String(req.headers.authorization ?? '') });
      if (body.Names.length > 10) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'ValidationException', message: 'at most 10 names' }));
        return;
      }
      const known = body.Names.filter((n) => stored.has(n));
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({
        Parameters: known.map((n) => ({
          Name: n.startsWith('arn:') ? n.replace(/^.*:parameter/, '') : n,
          ARN: n.startsWith('arn:') ? n : `arn:aws:ssm:eu-west-1:123456789012:parameter${n.startsWith('/') ? '' : '/'}${n}`,
          Type: 'SecureString',
          // Like SSM: a SecureString read without decryption is the ciphertext.
          Value: body.WithDecryption ? stored.get(n) : 'AQICAH-ciphertext',
          Version: 1,
        })),
        InvalidParameters: body.Names.filter((n) => !stored.has(n)),
      }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    stored,
    calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
