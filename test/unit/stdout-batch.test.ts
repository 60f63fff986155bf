// npm start's stdout batching (functions/local/stdout-batch.ts): the lines of one turn of the
// event loop leave in one write, whole and in order, and nothing pending is lost at exit.
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { batchStdout } from '../../functions/local/stdout-batch.ts';

function sink() {
  const writes: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { writes.push(chunk.toString('utf8')); cb(); } });
  return { writes, stream: stream as unknown as NodeJS.WriteStream };
}

describe('batched stdout', () => {
  it('lines written in one turn leave in one write, in order; the next turn starts a new one', async () => {
    const { writes, stream } = sink();
    batchStdout(stream);
    const done: string[] = [];
    stream.write('{"a":1}\n', () => done.push('a'));
    stream.write(Buffer.from('{"b":"é"}\n'));
    stream.write('{"c":3}\n', 'utf8', () => done.push('c'));
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['{"a":1}\n{"b":"é"}\n{"c":3}\n']);
    expect(done).toEqual(['a', 'c']);
    stream.write('{"d":4}\n');
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['{"a":1}\n{"b":"é"}\n{"c":3}\n', '{"d":4}\n']);
  });

  it('what is pending when the process exits is written', () => {
    const script = "import { batchStdout } from './functions/local/stdout-batch.ts'; batchStdout(); process.stdout.write('last words\\n'); process.exit(3);";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('last words\n');
  });
});
