// Values as DynamoDB stores them: gzipped JSON, and large ones split into part items (an item is
// at most 400 KB; a part leaves room for its keys and attributes).
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

export const PART_BYTES = 350_000;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const pack = async (value: unknown): Promise<Uint8Array> => gzipAsync(Buffer.from(JSON.stringify(value)));

export const unpack = async <T>(blob: Uint8Array): Promise<T> => JSON.parse((await gunzipAsync(blob)).toString('utf8')) as T;

/** How many parts of PART_BYTES a blob takes. */
export const partCount = (blob: Uint8Array): number => Math.ceil(blob.length / PART_BYTES);

/** Part n (from 1) of a blob. */
export const partOf = (blob: Uint8Array, n: number): Uint8Array => blob.subarray((n - 1) * PART_BYTES, n * PART_BYTES);

/** The parts joined again; a missing one is an error naming `what`. */
export function joinParts(parts: ReadonlyArray<Uint8Array | undefined>, what: string): Uint8Array {
  return Buffer.concat(parts.map((p, i) => {
    if (!p) throw new Error(`${what}: part ${i + 1} of ${parts.length} missing`);
    return p;
  }));
}
