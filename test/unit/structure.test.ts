// The shape of the code, kept: no import cycle among the files of shared/ and functions/ (type
// imports and dynamic imports included), dependencies pointing one way, the create pipeline
// entered only by the routes, the pure layers free of SDKs, and no file too long to read whole.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const MAX_LINES = 350;

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

const FILES = [...filesUnder('shared'), ...filesUnder('functions')];

/** Every module a file names: `import ... from`, `export ... from`, `import type`, `import('...')`. */
function specifiersOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?\sfrom\s+['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** file -> the files of the project it imports, and the packages it imports. */
const graph = new Map<string, { local: string[]; packages: string[] }>(FILES.map((file) => {
  const specs = specifiersOf(readFileSync(join(ROOT, file), 'utf8'));
  const local = specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)));
  return [file, { local, packages: specs.filter((s) => !s.startsWith('.')) }];
}));

/** The first import cycle found (as a path that returns to its start), or null. */
function findCycle(): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | null => {
    if (state.get(file) === 'done') return null;
    if (state.get(file) === 'open') return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file)?.local ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(file, 'done');
    return null;
  };
  for (const file of FILES) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

describe('code structure', () => {
  it('reads every import (the parser sees type-only, re-exported and dynamic imports)', () => {
    expect(specifiersOf("import type { A } from './a.ts';\nexport { b } from \"./b.ts\";\nconst c = await import('./c.ts');\nimport './d.ts';"))
      .toEqual(['./a.ts', './b.ts', './d.ts', './c.ts']);
    expect(graph.get('shared/service/create.ts')!.local).toContain('shared/service/turn.ts');
    for (const [file, { local }] of graph) for (const target of local) expect(FILES, `${file} imports ${target}`).toContain(target);
  });

  it('has no import cycle among the files of shared/ and functions/', () => {
    expect(findCycle()).toBeNull();
  });

  it('points one way: shared/ never imports functions/ or infra/', () => {
    for (const [file, { local }] of graph) {
      if (file.startsWith('shared/')) expect(local.filter((t) => !t.startsWith('shared/')), file).toEqual([]);
    }
  });

  it('enters the create pipeline only from the routes', () => {
    const importers = [...graph].filter(([, { local }]) => local.includes('shared/service/create.ts')).map(([file]) => file);
    expect(importers).toEqual(['functions/api/routes.ts']);
  });

  /** What the pure layers may import: zod/mini with its English messages, and node:crypto. */
  const PURE_PACKAGES = ['zod/mini', 'zod/locales', 'node:crypto'];

  it('keeps the pure layers (protocol, translate, stream) free of SDKs and I/O', () => {
    for (const [file, { packages }] of graph) {
      if (!/^shared\/(protocol|translate|stream)\//.test(file)) continue;
      expect(packages.filter((p) => !PURE_PACKAGES.includes(p)), file).toEqual([]);
    }
  });

  it('uses zod/mini, never classic zod (95 KiB more in every Lambda bundle)', () => {
    for (const [file, { packages }] of graph) expect(packages.filter((p) => p.split('/')[0] === 'zod' && !PURE_PACKAGES.includes(p)), file).toEqual([]);
  });

  it(`has no file over ${MAX_LINES} lines`, () => {
    const long = FILES.map((f) => [f, readFileSync(join(ROOT, f), 'utf8').split('\n').length] as const).filter(([, n]) => n > MAX_LINES);
    expect(long).toEqual([]);
  });
});
