import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { FunctionUrlEvent, HandlerResponse } from './event.ts';
import { errorResponse, route } from './routes.ts';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnLauncher } from '../../shared/adapters/sfn-launcher.ts';
import { getServices, useLauncher } from './services.ts';

// On Lambda, background jobs start as Step Functions executions (the local server injects its own
// services, with the local workflow runner, before any request).
useLauncher((env) => new SfnLauncher(new SFNClient({}), env.STATE_MACHINE_ARN ?? ''));

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
