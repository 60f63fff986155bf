// Rules that span several config keys (config.ts parses each key on its own): timing settings that
// contradict each other stop the start, and the list of secrets to scrub from upstream text.
import { maskUrls, MIN_SCRUBBED_LENGTH, urlSecrets } from './redact.ts';

/** A config the gateway cannot run with safely; the message names the key (and the file, once known). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Lambda's limit on one invocation: no single wait of ours may outlast it. */
const LAMBDA_LIMIT_MS = 15 * 60 * 1000;
/** The shortest slot lease: renewed every third of it, a renewal (one DynamoDB write) must fit with room to spare. */
const MIN_SLOT_LEASE_MS = 1_000;

interface Timings {
  heartbeat_ms: number;
  orphan_after_ms: number;
  slot_lease_ms: number;
  upstream_timeout_ms: number;
  slot_wait_ms: number;
  background_queue_ms: number;
}

/** Timing settings that cannot work together: a ConfigError naming the keys. */
export function checkTimings(t: Timings): void {
  if (t.orphan_after_ms < 2 * t.heartbeat_ms) {
    throw new ConfigError(`orphan_after_ms (${t.orphan_after_ms}) must be at least twice heartbeat_ms (${t.heartbeat_ms}): otherwise the sweeper fails live responses between two heartbeats`);
  }
  if (t.slot_lease_ms < MIN_SLOT_LEASE_MS) {
    throw new ConfigError(`slot_lease_ms (${t.slot_lease_ms}) must be at least ${MIN_SLOT_LEASE_MS}: a lease is renewed every third of it, and a renewal that takes a few hundred ms would let it lapse`);
  }
  for (const key of ['upstream_timeout_ms', 'slot_wait_ms', 'background_queue_ms'] as const) {
    if (t[key] >= LAMBDA_LIMIT_MS) {
      throw new ConfigError(`${key} (${t[key]}) must be under ${LAMBDA_LIMIT_MS} (15 minutes, the longest a Lambda invocation runs)`);
    }
  }
}

/**
 * Every secret the config holds, in the forms an upstream may echo: upstream API keys, URL
 * credentials (and their Basic tokens), client keys. One too short to be scrubbed without
 * garbling ordinary text is named in a notice.
 */
export function secretsOf(
  endpoints: ReadonlyArray<{ url: string; apiKey?: string }>,
  clientKeys: ReadonlyMap<string, string>,
  notices: Array<{ key: string; message: string }>,
): string[] {
  const named: Array<[where: string, secret: string]> = [];
  for (const ep of endpoints) {
    if (ep.apiKey) named.push([`api_keys.${maskUrls(ep.url)}`, ep.apiKey]);
    for (const s of urlSecrets(ep.url)) named.push(['endpoints (URL credentials)', s]);
  }
  for (const [key, principal] of clientKeys) named.push([`the client key of '${principal}'`, key]);
  const short = new Set(named.filter(([, s]) => s.length < MIN_SCRUBBED_LENGTH).map(([where]) => where));
  for (const where of short) {
    notices.push({ key: where, message: `a secret shorter than ${MIN_SCRUBBED_LENGTH} characters cannot be scrubbed from upstream text without garbling it; use a longer one` });
  }
  return [...new Set(named.map(([, s]) => s))];
}
