import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { Services } from '../../shared/service/context.ts';
import type { FunctionUrlEvent, HandlerResponse } from './event.ts';
import { RequestRecord } from './request-record.ts';
import { errorResponse, route } from './routes.ts';

/**
 * The one API handler over the services `services()` gives: a Lambda Function URL in
 * RESPONSE_STREAM mode (handler.ts) and, unchanged, the local server (functions/local provides
 * the `awslambda` streaming globals, which must exist before this is called).
 */
export function apiHandler(services: () => Promise<Services>) {
  return middy<FunctionUrlEvent, HandlerResponse>({
    executionMode: executionModeStreamifyResponse,
    // Runs after the body was piped, or failed to be (a client that left): a stored stream is
    // still generated to its end and stored before the invocation ends.
    requestEnd: async (request: { response?: HandlerResponse | null }) => {
      await request.response?.settled;
      request.response?.record?.end(request.response.statusCode);
    },
  }).handler(async (event: FunctionUrlEvent): Promise<HandlerResponse> => {
    const record = new RequestRecord(event);
    let res: HandlerResponse;
    try {
      res = await route(await services(), event, record);
    } catch (err) {
      res = errorResponse(err);
    }
    return Object.defineProperty(res, 'record', { value: record, enumerable: false });
  });
}
