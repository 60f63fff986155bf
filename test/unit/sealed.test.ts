// The gateway's sealed content (shared/protocol/sealed.ts): authenticated encryption that opens
// only what this gateway sealed, under a key it still has, unchanged and of the same kind.
import { describe, expect, it } from 'vitest';
import { Sealer } from '../../shared/protocol/sealed.ts';

const OLD = 'an old key of at least thirty-two characters';
const NEW = 'a new key, also thirty-two characters or more';

describe('Sealer', () => {
  it('opens what it sealed; the blob is recognizable, differs every time and does not show the text', () => {
    const s = new Sealer([NEW]);
    const a = s.seal('reasoning', 'I should call the tool first.');
    const b = s.seal('reasoning', 'I should call the tool first.');
    expect(a).toMatch(/^gw1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('tool');
    expect(Sealer.isOurs(a)).toBe(true);
    expect(s.open('reasoning', a)).toEqual({ text: 'I should call the tool first.' });
    expect(s.open('compaction', s.seal('compaction', 'ünïcödé 🙂'))).toEqual({ text: 'ünïcödé 🙂' });
  });

  it('rotates: the first key seals, every key opens; a key dropped from the list no longer opens its blobs', () => {
    const before = new Sealer([OLD]).seal('reasoning', 'old thought');
    const rotated = new Sealer([NEW, OLD]);
    expect(rotated.open('reasoning', before)).toEqual({ text: 'old thought' });
    expect(new Sealer([NEW]).open('reasoning', rotated.seal('reasoning', 'new thought'))).toEqual({ text: 'new thought' });
    expect(new Sealer([NEW]).open('reasoning', before)).toEqual({ failure: 'unknown_key' });
  });

  it('refuses a changed byte, another kind, a foreign blob, and keys that are too short', () => {
    const s = new Sealer([NEW]);
    const blob = s.seal('reasoning', 'secret');
    const i = blob.length - 5;
    const tampered = blob.slice(0, i) + (blob[i] === 'A' ? 'B' : 'A') + blob.slice(i + 1);
    expect(s.open('reasoning', tampered)).toEqual({ failure: 'tampered' });
    expect(s.open('compaction', blob)).toEqual({ failure: 'tampered' });
    expect(s.open('reasoning', 'gw1.zz')).toEqual({ failure: 'tampered' });
    expect(s.open('reasoning', 'gAAAAABoFOREIGN==')).toEqual({ failure: 'foreign' });
    expect(Sealer.isOurs('gAAAAABoFOREIGN==')).toBe(false);
    expect(() => new Sealer(['short'])).toThrow(/at least 32/);
    expect(Sealer.ephemeral().open('reasoning', blob)).toEqual({ failure: 'unknown_key' });
  });
});
