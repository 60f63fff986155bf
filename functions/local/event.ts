import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { FunctionUrlEvent } from '../api/event.ts';

// A node:http request as the Function URL event (payload 2.0) Lambda would hand the handler.

/** A plain path (segments of letters, digits, '_' and '-'; no query, dots or escapes) needs no URL parser. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_-]+)+\/?$/;
const NO_PARAMS = new URLSearchParams();

export type TargetUrl = Pick<URL, 'pathname' | 'search' | 'searchParams'>;

/**
 * The request target as a URL, or null when it cannot be one. Origin-form targets ('/path?q') are
 * put under a fixed origin, so '//x/y' stays a path instead of naming a host (and '//[' cannot
 * throw); absolute-form targets ('http://h/path', as proxies send) keep their own path.
 */
export function targetUrl(target: string): TargetUrl | null {
  if (PLAIN_PATH.test(target)) return { pathname: target, search: '', searchParams: NO_PARAMS };
  try {
    return new URL(target.startsWith('/') ? `http://local${target}` : target, 'http://local');
  } catch {
    return null;
  }
}

/** The event from the request line and headers: what can be decided before the body is read. */
export function headEvent(req: http.IncomingMessage, url: TargetUrl): FunctionUrlEvent & { isBase64Encoded: boolean } {
  // Null prototypes: a header or parameter named `__proto__` or `constructor` is just a name.
  const headers: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = Object.create(null);
  for (const [k, v] of url.searchParams) query[k] = Object.hasOwn(query, k) ? `${query[k]},${v}` : v;
  return {
    version: '2.0',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    body: undefined,
    isBase64Encoded: false,
    requestContext: { http: { method: req.method ?? 'GET', path: url.pathname, sourceIp: req.socket.remoteAddress }, requestId: randomUUID() },
  } as FunctionUrlEvent & { isBase64Encoded: boolean };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as Lambda gives it: text when it is UTF-8, else base64. */
export function withBody(event: FunctionUrlEvent, body: Buffer): FunctionUrlEvent {
  if (!body.length) return event;
  try {
    return { ...event, body: utf8.decode(body), isBase64Encoded: false };
  } catch {
    return { ...event, body: body.toString('base64'), isBase64Encoded: true };
  }
}
