// The opaque `encrypted_content` the gateway hands out on Chat backends (reasoning items with
// `include: ["reasoning.encrypted_content"]`, compaction items) and takes back later: the text
// sealed with AES-256-GCM, so a client can carry it without reading or changing it (a changed
// byte, or a blob of another kind, fails to open). Keys come from config (`reasoning_keys`): the
// first seals, every one opens, so a key can be rotated out. Pure apart from node:crypto.
//
// A blob: `gw1.<key id>.<base64url(iv | tag | ciphertext)>`. The versioned prefix makes our
// blobs recognizable (an upstream's are not ours to open); the key id picks the key.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export type SealedKind = 'reasoning' | 'compaction';

/** Why a blob did not open: not one of ours, sealed under a key we no longer (or never) had, or changed. */
export type OpenFailure = 'foreign' | 'unknown_key' | 'tampered';

/** Shortest key accepted: 32 characters (`openssl rand -base64 32` gives 44). */
export const MIN_KEY_CHARS = 32;

const PREFIX = 'gw1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BLOB = /^gw1\.([0-9a-f]{8})\.([A-Za-z0-9_-]+)$/;

interface Key { id: string; key: Buffer }

/** A key from a configured secret: HKDF-SHA256, so any long enough string serves. */
function keyOf(secret: string): Key {
  const key = Buffer.from(hkdfSync('sha256', secret, 'responses-gateway', 'sealed content v1', 32));
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

export class Sealer {
  private readonly keys: Key[];

  /** `secrets`: the first seals, all open. Each at least MIN_KEY_CHARS long (config checks it, naming the key). */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('a sealer needs at least one key');
    for (const s of secrets) if (s.length < MIN_KEY_CHARS) throw new Error(`a sealing key must be at least ${MIN_KEY_CHARS} characters`);
    this.keys = secrets.map(keyOf);
  }

  /** A sealer whose key lives only as long as this process (no key configured). */
  static ephemeral(): Sealer {
    return new Sealer([randomBytes(32).toString('base64')]);
  }

  /** True for a blob in our format (whether or not it opens). */
  static isOurs(blob: unknown): boolean {
    return typeof blob === 'string' && blob.startsWith(PREFIX);
  }

  seal(kind: SealedKind, text: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`${PREFIX}${id}.${kind}`));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return `${PREFIX}${id}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  open(kind: SealedKind, blob: string): { text: string } | { failure: OpenFailure } {
    const m = BLOB.exec(blob);
    if (!m) return { failure: Sealer.isOurs(blob) ? 'tampered' : 'foreign' };
    const key = this.keys.find((k) => k.id === m[1]);
    if (!key) return { failure: 'unknown_key' };
    const raw = Buffer.from(m[2]!, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return { failure: 'tampered' };
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`${PREFIX}${key.id}.${kind}`));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      return { text };
    } catch {
      return { failure: 'tampered' };
    }
  }
}

/** What a client is told about a blob that did not open. */
export const OPEN_FAILURES: Record<OpenFailure, string> = {
  foreign: 'was not sealed by this gateway (a Chat backend cannot read another server\'s encrypted content)',
  unknown_key: 'was sealed under a key this gateway no longer has (a key rotated out of reasoning_keys, or a restart without reasoning_keys)',
  tampered: 'does not open: it was changed, or is not the kind of content this item carries',
};
