import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { FunctionUrlEvent, HandlerResponse } from './event.ts';
import { errorResponse, route } from './routes.ts';
import { getServices } from './services.ts';

// The one API handler: a Lambda Function URL in RESPONSE_STREAM mode, and, unchanged, the local
// server (functions/local provides the `awslambda` streaming globals it needs).

export const handler = middy<FunctionUrlEvent, HandlerResponse>({
  executionMode: executionModeStreamifyResponse,
  // Runs after the body was piped, or failed to be (a client that left): a stored stream is
  // still generated to its end and stored before the invocation ends.
  requestEnd: async (request: { response?: HandlerResponse | null }) => {
    await request.response?.settled;
  },
}).handler(
  async (event: FunctionUrlEvent): Promise<HandlerResponse> => {
    try {
      return await route(await getServices(), event);
    } catch (err) {
      return errorResponse(err);
    }
  },
);
