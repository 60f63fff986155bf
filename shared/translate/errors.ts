import { ApiError } from '../protocol/errors.ts';

/**
 * A request the chat backends cannot express. Extends ApiError so the handler answers with
 * OpenAI's 400 envelope (`param` names the offending field) without extra mapping.
 */
export class TranslationError extends ApiError {
  constructor(message: string, param: string | null = null) {
    super(400, message, 'invalid_request_error', param);
    this.name = 'TranslationError';
  }
}
