// npm start's stdout written once per turn of the event loop: Node writes to a file or a pipe
// synchronously, one system call per log line (two per request: its line and its metrics), and
// under load those calls were a sixth of the server's CPU (docs/benchmarks.md, "Garbage
// collection at 2,000 req/s"). The lines of one turn go out together, whole and in order; what is
// pending is written on exit too. (A Lambda serves one request at a time: its functions do not use this.)

type WriteCallback = (err?: Error | null) => void;

export function batchStdout(stream: NodeJS.WriteStream = process.stdout): void {
  const write = stream.write.bind(stream) as (chunk: string, cb?: WriteCallback) => boolean;
  let pending: string[] = [];
  let callbacks: WriteCallback[] = [];
  let due = false;
  const flush = (): void => {
    due = false;
    if (pending.length === 0) return;
    const [chunk, done] = [pending.join(''), callbacks];
    pending = [];
    callbacks = [];
    write(chunk, (err) => { for (const cb of done) cb(err); });
  };
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean => {
    pending.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'));
    const callback = typeof encoding === 'function' ? encoding : cb;
    if (callback) callbacks.push(callback);
    if (!due) {
      due = true;
      setImmediate(flush);
    }
    return true;
  }) as typeof stream.write;
  process.on('exit', flush);
}
