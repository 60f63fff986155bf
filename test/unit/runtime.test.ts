// The project runs on the Node that Lambda runs: the npm package `node` pinned in package.json puts
// that binary first on the PATH of every npm script (npm start, npm test, CI), whatever Node the
// machine has.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_TARGET } from '../../infra/bundling.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

describe('runtime', () => {
  it('tests run on the pinned Node, the major the Lambda bundles target', () => {
    const pinned = pkg.devDependencies.node as string;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(process.versions.node).toBe(pinned);
    expect(NODE_TARGET).toBe(`node${pinned.split('.')[0]}`);
  });

  it('engines asks for what the dependencies need (Node 22+)', () => {
    expect(pkg.engines.node).toBe('>=22');
  });
});
