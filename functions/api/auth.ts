import { ApiError } from '../../shared/protocol/errors.ts';
import type { Caller } from '../../shared/service/context.ts';
import type { FunctionUrlEvent } from './event.ts';

/**
 * The caller's principal. Behind a Function URL with AWS_IAM auth, Lambda has verified the
 * signature and tells us the ARN; an assumed-role session counts as its role, so every session
 * of a role shares what the role stores. Locally (no IAM), bearer keys from config name the
 * principal; with no keys configured, everyone is `default`.
 */
export function callerOf(event: FunctionUrlEvent, clientKeys: Map<string, string>): Caller {
  const arn = event.requestContext.authorizer?.iam?.userArn;
  if (arn) return { principal: roleOf(arn) };
  if (clientKeys.size === 0) return { principal: 'default' };
  const header = event.headers?.authorization ?? '';
  // Repeated headers arrive joined with ',' (Function URLs and node:http alike): which one counts is
  // not ours to guess. The scheme is case-insensitive (RFC 9110), the key itself is not.
  if (header.includes(',')) throw new ApiError(401, 'Send one Authorization header.', 'invalid_request_error', null, 'invalid_api_key');
  const m = /^bearer\s+(.+)$/i.exec(header.trim());
  const key = m ? m[1]!.trim() : '';
  const principal = key ? clientKeys.get(key) : undefined;
  if (!principal) {
    throw new ApiError(401, key ? 'Incorrect API key provided.' : "You didn't provide an API key. Provide it in the Authorization header as 'Bearer YOUR_KEY'.", 'invalid_request_error', null, 'invalid_api_key');
  }
  return { principal };
}

/** arn:aws:sts::123:assumed-role/Role/session -> arn:aws:iam::123:role/Role */
export function roleOf(arn: string): string {
  const m = /^arn:(aws[\w-]*):sts::(\d+):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}
