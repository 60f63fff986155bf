// Who owns what: the principal behind a Function URL with AWS_IAM auth, or a local bearer key.
import { describe, expect, it } from 'vitest';
import { callerOf, roleOf } from '../../functions/api/auth.ts';
import type { FunctionUrlEvent } from '../../functions/api/event.ts';

const event = (iam?: { userArn: string }, authorization?: string): FunctionUrlEvent => ({
  rawPath: '/v1/responses',
  headers: authorization ? { authorization } : {},
  requestContext: { http: { method: 'GET' }, authorizer: iam ? { iam } : undefined },
});

describe('callerOf', () => {
  it('an assumed-role session counts as its role: every session of a role shares what it stores', () => {
    const a = callerOf(event({ userArn: 'arn:aws:sts::123456789012:assumed-role/Agents/session-1' }), new Map());
    const b = callerOf(event({ userArn: 'arn:aws:sts::123456789012:assumed-role/Agents/session-2' }), new Map());
    expect(a.principal).toBe('arn:aws:iam::123456789012:role/Agents');
    expect(b.principal).toBe(a.principal);
    expect(callerOf(event({ userArn: 'arn:aws:sts::123456789012:assumed-role/Other/session-1' }), new Map()).principal).not.toBe(a.principal);
  });

  it('an IAM user is itself; IAM wins over any bearer header', () => {
    const keys = new Map([['k', 'alice']]);
    expect(callerOf(event({ userArn: 'arn:aws:iam::123456789012:user/bob' }, 'Bearer k'), keys).principal).toBe('arn:aws:iam::123456789012:user/bob');
  });

  it('locally: bearer keys name principals; a missing or wrong key is 401; no keys means everyone is default', () => {
    const keys = new Map([['key-a', 'alice']]);
    expect(callerOf(event(undefined, 'Bearer key-a'), keys).principal).toBe('alice');
    expect(() => callerOf(event(undefined, 'Bearer nope'), keys)).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => callerOf(event(), keys)).toThrow(expect.objectContaining({ status: 401 }));
    expect(callerOf(event(), new Map()).principal).toBe('default');
  });

  it('the scheme is case-insensitive; two Authorization headers (joined with a comma) are refused, not guessed at', () => {
    const keys = new Map([['key-a', 'alice'], ['key-b', 'bob']]);
    expect(callerOf(event(undefined, 'bearer key-a'), keys).principal).toBe('alice');
    expect(callerOf(event(undefined, 'BEARER  key-a '), keys).principal).toBe('alice');
    expect(() => callerOf(event(undefined, 'Bearer KEY-A'), keys)).toThrow(expect.objectContaining({ status: 401 }));
    expect(() => callerOf(event(undefined, 'Bearer key-a,Bearer key-b'), keys)).toThrow(expect.objectContaining({ status: 401, message: 'Send one Authorization header.' }));
  });

  it('roleOf keeps the partition of the ARN', () => {
    expect(roleOf('arn:aws-cn:sts::1:assumed-role/R/s')).toBe('arn:aws-cn:iam::1:role/R');
  });
});
