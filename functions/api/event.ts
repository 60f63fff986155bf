// The slice of a Lambda Function URL event (payload format 2.0) that we read. The local server
// builds the same shape from node:http, so the handler cannot tell them apart.
import type { Readable } from 'node:stream';

export interface FunctionUrlEvent {
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: {
    http: { method: string; path?: string; sourceIp?: string };
    /** Present with AWS_IAM auth: who signed the request. */
    authorizer?: { iam?: { userArn?: string; userId?: string; accountId?: string; callerId?: string } };
    requestId?: string;
  };
  /** Local server only (a Lambda cannot tell): aborted when the client closes its connection. */
  clientGone?: AbortSignal;
  /** Local server only: aborted when the server stops and this request's grace period is over. */
  shutdown?: AbortSignal;
}

export interface HandlerResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** A finished answer (one write) or a stream of events (sse.ts); bytes either way, encoded once. */
  body: Buffer | Readable;
  /** Work the invocation must finish before it ends. */
  settled?: Promise<void>;
  /** Work to start once the client has its last byte (and `settled`), which the invocation finishes too. */
  afterSent?: () => Promise<void>;
}
