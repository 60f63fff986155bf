// A `fetch` that signs every request with AWS SigV4 for a Lambda Function URL (AWS_IAM auth):
//
//   const client = new OpenAI({ baseURL: `${functionUrl}v1`, apiKey: 'unused', fetch: createSignedFetch() });
//
// - One call = one signature = one request. It never retries by itself, so a POST is never
//   duplicated by the signer; the OpenAI SDK's retries call fetch again and are signed afresh
//   (new date, new `x-stainless-retry-count`).
// - The body is buffered (string, bytes, Blob, FormData, URLSearchParams, even a ReadableStream)
//   and its SHA-256 sent in `x-amz-content-sha256`, which Function URLs require for POST/PUT.
// - Signed: method, path, canonical query, `host`, `x-amz-*` and every header the caller hands
//   us (content-type, accept, the SDK's x-stainless-*, ...): fetch sends those unchanged, and
//   signing them means nobody can alter them in flight. Not signed: the headers smithy never
//   signs (authorization, user-agent, connection, expect, transfer-encoding, proxy-*, ...) plus
//   content-length and accept-encoding, which fetch implementations and proxies set or rewrite
//   themselves (the body's length is covered by its hash anyway). Headers fetch adds on its own
//   after us (accept-language, sec-fetch-mode, ...) are not in SignedHeaders, so they can't break it.
// - Any `Authorization` (the SDK's `Bearer <apiKey>`) is replaced by the SigV4 one.
// - The response, SSE streams included, is returned untouched.
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface SignedFetchOptions {
  /** Signing region. Default: the Function URL's own region (from its host), else AWS_REGION / AWS_DEFAULT_REGION. */
  region?: string;
  /** Default: the Node default provider chain (env, SSO, ini, process, web identity, ECS, EC2), memoized and refreshed before expiry. */
  credentials?: AwsCredentialIdentityProvider | AwsCredentialIdentity;
  /** Signing service. Default `lambda` (what Function URLs expect). */
  service?: string;
  /** The fetch that sends the signed request. Default: globalThis.fetch. */
  fetch?: typeof fetch;
}

/** Fetch implementations and proxies set or rewrite these; they stay out of the signature. */
const UNSIGNED_HEADERS = new Set(['content-length', 'accept-encoding']);

/** One memoized chain per process: credentials are resolved once and refreshed near expiry. */
let defaultChain: AwsCredentialIdentityProvider | undefined;

export function createSignedFetch(opts: SignedFetchOptions = {}): typeof fetch {
  const send = opts.fetch ?? globalThis.fetch;
  const credentials = opts.credentials ?? (defaultChain ??= fromNodeProviderChain());
  const signer = new SignatureV4({
    service: opts.service ?? 'lambda',
    // Overridden per request (`signingRegion`); the region may come from each request's URL.
    region: opts.region ?? '',
    credentials,
    sha256: Sha256,
  });

  return async function signedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    // Let the platform normalize URL, method, headers and any body type, then buffer the body.
    const request = new Request(input, init);
    const url = new URL(request.url);
    const region = opts.region ?? regionFromFunctionUrl(url) ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
    if (!region) {
      throw new Error(`createSignedFetch: no region for ${url.host}; pass { region } or set AWS_REGION`);
    }
    const body = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());

    const headers: Record<string, string> = { host: url.host };
    request.headers.forEach((value, name) => {
      if (name !== 'host') headers[name] = value;
    });
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: queryOf(url),
        headers,
        body,
      },
      { signingRegion: region, unsignableHeaders: UNSIGNED_HEADERS },
    );

    // `host` was signed as fetch will send it (url.host); fetch sets it itself.
    const { host: _host, ...sendHeaders } = signed.headers;
    const { duplex: _duplex, ...rest } = (init ?? {}) as RequestInit & { duplex?: string };
    return send(url, { ...rest, method: request.method, headers: sendHeaders, body, signal: request.signal, redirect: request.redirect });
  };
}

/** `<url-id>.lambda-url.<region>.on.aws` -> region; undefined for any other host. */
export function regionFromFunctionUrl(url: string | URL): string | undefined {
  const host = typeof url === 'string' ? new URL(url).hostname : url.hostname;
  return /^[^.]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/i.exec(host)?.[1]?.toLowerCase();
}

/** Decoded query parameters, repeated keys as arrays: the shape smithy canonicalizes. */
function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0]! : values;
  }
  return query;
}
