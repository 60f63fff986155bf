// How a response record sits in its partition (layout.ts `resp_…`), as pure functions: where each
// blob lives (inline in the meta item, or in part items of a generation), which part keys are
// still to be read, and the ancestor refs that let a chain be read by exact keys.
import type { ResponseStatus } from '../../protocol/types.ts';
import type { Item } from './batch.ts';
import { joinParts } from './blob.ts';
import { responseKeys, type Key } from './layout.ts';

export type Kind = 'i' | 'o';
/** Where a blob lives: inline in the meta item, or in `parts` part items of generation `gen`. */
export type PartsPtr = { gen: string; parts: number };
export type BlobPtr = { inline: Uint8Array } | PartsPtr;

export interface Meta extends Item {
  pk: string;
  owner: string;
  status: ResponseStatus;
  updated_at: number;
  expires_at?: number;
}

/** A partition as read so far: its meta item and the part blobs by sort key. */
export interface Loaded { meta: Meta; parts: Map<string, Uint8Array> }

export function partKeys(id: string, kind: Kind, ptr: BlobPtr | undefined): Key[] {
  if (!ptr || 'inline' in ptr) return [];
  return Array.from({ length: ptr.parts }, (_, i) => responseKeys.part(id, kind, ptr.gen, i + 1));
}

export function blobAttrs(prefix: 'in' | 'out', ptr: BlobPtr): Item {
  return 'inline' in ptr ? { [`${prefix}_blob`]: ptr.inline } : { [`${prefix}_gen`]: ptr.gen, [`${prefix}_parts`]: ptr.parts };
}

function partsOf(meta: Meta, kind: Kind): PartsPtr | undefined {
  const gen = meta[`${kind === 'i' ? 'in' : 'out'}_gen`] as string | undefined;
  return gen ? { gen, parts: meta[`${kind === 'i' ? 'in' : 'out'}_parts`] ?? 0 } : undefined;
}

/** Part keys the meta item points at that have not been read yet. */
export function missingKeys({ meta, parts }: Loaded): Key[] {
  return [...partKeys(meta.pk, 'i', partsOf(meta, 'i')), ...partKeys(meta.pk, 'o', partsOf(meta, 'o'))].filter((k) => !parts.has(k.sk));
}

export function blobOf(meta: Meta, parts: Map<string, Uint8Array>, kind: Kind): Uint8Array {
  const ptr = partsOf(meta, kind);
  if (ptr) return joinParts(partKeys(meta.pk, kind, ptr).map((k) => parts.get(k.sk)), `response ${meta.pk}`);
  const inline = meta[`${kind === 'i' ? 'in' : 'out'}_blob`] as Uint8Array | undefined;
  if (!inline) throw new Error(`response ${meta.pk}: no ${kind === 'i' ? 'input' : 'response'} blob`);
  return inline;
}

export function refOfMeta(meta: Meta): string {
  let ref = meta.pk;
  for (const kind of ['i', 'o'] as const) {
    const p = partsOf(meta, kind);
    if (p) ref += `|${kind}${p.gen}.${p.parts}`;
  }
  return ref;
}

export function parseRef(ref: string): { id: string; i?: PartsPtr; o?: PartsPtr } {
  const [id, ...segs] = ref.split('|');
  const out: { id: string; i?: PartsPtr; o?: PartsPtr } = { id: id! };
  for (const seg of segs) {
    const [gen, parts] = seg.slice(1).split('.');
    if ((seg[0] === 'i' || seg[0] === 'o') && gen && parts) out[seg[0]] = { gen, parts: Number(parts) };
  }
  return out;
}
