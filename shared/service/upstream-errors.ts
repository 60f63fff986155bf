import { ApiError, badRequest } from '../protocol/errors.ts';
import { TranslationError } from '../translate/errors.ts';
import type { ResponseError } from '../protocol/types.ts';
import { UpstreamError } from '../ports.ts';
import { log } from '../log.ts';

/**
 * An upstream failure before anything was streamed, as the client should see it: the upstream's
 * own 4xx (its message kept, unlike the Python router which turned them into 500s), 429 as 429,
 * time-outs as 504 and everything else as 502.
 */
export function upstreamToApiError(err: unknown): ApiError {
  if (!(err instanceof UpstreamError)) {
    log.error('unexpected error', err as Error);
    return new ApiError(500, 'The server had an error while processing your request.', 'server_error', null, 'server_error');
  }
  if (err.kind === 'http' && err.status === 429) {
    return new ApiError(429, err.upstreamMessage ?? 'The upstream model server is rate limiting requests.', 'rate_limit_error', null, 'rate_limit_exceeded');
  }
  if (err.kind === 'http' && err.status >= 400 && err.status < 500) {
    return new ApiError(err.status, err.upstreamMessage ?? err.message, 'invalid_request_error', null, 'upstream_error');
  }
  if (err.kind === 'timeout') return new ApiError(504, `The upstream model server did not answer in time: ${err.message}`, 'server_error', null, 'upstream_timeout');
  // Stopped on purpose (the gateway shutting down, a deadline): its reason says why.
  if (err.kind === 'aborted') return new ApiError(503, err.message, 'server_error', null, 'stopped');
  return new ApiError(502, `The upstream model server failed: ${err.message}`, 'server_error', null, 'upstream_error');
}

/** Any failure of an upstream call before its answer, thrown as the client should see it (a translation error is a 400). */
export function rethrowUpstream(err: unknown, signal?: AbortSignal): never {
  if (err instanceof TranslationError) throw badRequest(err.message, err.param ?? null);
  if (err instanceof ApiError) throw err;
  // A call we stopped on purpose says why.
  throw upstreamToApiError(signal?.aborted && signal.reason instanceof UpstreamError ? signal.reason : err);
}

/** The `error` of a response that failed after streaming began. */
export function streamFailure(err: unknown): ResponseError {
  if (err instanceof UpstreamError) return { code: 'server_error', message: `The upstream model server failed: ${err.message}` };
  return { code: 'server_error', message: 'The server had an error while processing your request.' };
}

/** The failure to report for a stream: the reason it was aborted, if we aborted it on purpose. */
export function failureOf(signal: AbortSignal): (err: unknown) => ResponseError {
  return (err) => {
    const reason = signal.aborted ? signal.reason : undefined;
    return reason instanceof UpstreamError ? { code: 'server_error', message: reason.message } : streamFailure(err);
  };
}
