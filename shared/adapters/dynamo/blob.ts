// Values as DynamoDB stores them: gzipped JSON, and large ones split into part items (an item is
// at most 400 KB; a part leaves room for its keys and attributes).
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';

export const PART_BYTES = 350_000;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/**
 * Below this many bytes zlib runs on the calling thread: a trip through libuv's thread pool cost
 * 120-180 µs a call against 20 µs of work for a 2 KB value (every record, snapshot and event
 * batch is a few KB). Larger values are compressed off the event loop.
 */
const SYNC_BYTES = 64 * 1024;

export const pack = async (value: unknown): Promise<Uint8Array> => {
  const json = Buffer.from(JSON.stringify(value));
  return json.length < SYNC_BYTES ? gzipSync(json) : gzipAsync(json);
};

/** (A blob compresses 4 to 20 times: a small one is small unpacked too.) */
export const unpack = async <T>(blob: Uint8Array): Promise<T> =>
  JSON.parse((blob.length < SYNC_BYTES / 8 ? gunzipSync(blob) : await gunzipAsync(blob)).toString('utf8')) as T;

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
