// OpenAI's error envelope and the status codes OpenAI uses. Services throw ApiError; the
// handler turns it into `{"error": {message, type, param, code}}` with its status.

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

export interface ErrorBody {
  error: { message: string; type: ErrorType | string; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType | string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new ApiError(400, message, 'invalid_request_error', param, code);

export const notFound = (message: string, param: string | null = null) =>
  new ApiError(404, message, 'invalid_request_error', param, 'not_found');

export const responseNotFound = (id: string, param: string | null = null) =>
  notFound(`Response with id '${id}' not found.`, param);

/** Any unexpected failure: never leak internals, keep the envelope. */
export const toApiError = (err: unknown): ApiError =>
  err instanceof ApiError ? err : new ApiError(500, 'The server had an error while processing your request.', 'server_error', null, 'server_error');
