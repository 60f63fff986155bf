// Secrets out of everything the gateway prints or passes on: credentials in URLs are masked
// wherever a URL is logged or stored, and the configured secrets (upstream API keys, URL
// passwords and their Basic tokens, client keys) are scrubbed from whatever an upstream sends
// before a client, a stored response or the log can see it (an upstream that echoes its
// Authorization header must not hand the operator's key to every tenant).

/** `scheme://userinfo@`: the credentials part of a URL, wherever it appears in a text. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;

/** The text with the credentials of every URL in it masked: `http://user:pass@host` -> `http://***@host`. */
export function maskUrls(text: string): string {
  return text.includes('@') ? text.replace(URL_USERINFO, '$1***@') : text;
}

/** What a scrubbed secret becomes. */
export const REDACTED = '[redacted]';

/**
 * Secrets shorter than this are not scrubbed from upstream text: a short one is as likely to be
 * ordinary text, which would be garbled. The config names such keys at start.
 */
export const MIN_SCRUBBED_LENGTH = 8;

/** A URL part percent-decoded, or as written where it is not valid percent-encoding (`%zz`). */
const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * The Basic token (base64 of `user:pass`) for the credentials written in a URL, as Node would
 * send them for `http://user:pass@host`; undefined when the URL has none. Malformed percent-
 * encoding is sent as written rather than failing every call to the endpoint.
 */
export function basicAuthOf(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  return Buffer.from(`${decode(url.username)}:${decode(url.password)}`).toString('base64');
}

/**
 * The forms in which a URL's credentials reach an upstream (and may come back from it): the
 * password as written and decoded, and the Basic token Node sends for `user:pass@`.
 */
export function urlSecrets(raw: string): string[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [];
  }
  const basic = basicAuthOf(url);
  if (!basic) return [];
  return [url.password, decode(url.password), basic].filter(Boolean);
}

export type Redact = (text: string) => string;

/** Nothing to scrub. */
export const noRedact: Redact = (text) => text;

/**
 * A function that replaces every secret in a text (as is, and JSON-escaped, as it appears inside
 * a JSON string) with REDACTED. Longest first, so a secret that contains another goes whole.
 * Texts without any secret (nearly all) cost one `includes` per secret.
 */
export function redactor(secrets: readonly string[]): Redact {
  const forms = secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]).filter((s) => s.length >= MIN_SCRUBBED_LENGTH);
  const list = [...new Set(forms)].sort((a, b) => b.length - a.length);
  if (list.length === 0) return noRedact;
  return (text) => {
    let out = text;
    for (const s of list) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  };
}
