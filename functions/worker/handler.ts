import { publishMetrics } from '../../shared/metrics.ts';
import { markFailed, runBackground } from '../../shared/service/worker.ts';
import { lazy, noLauncher, servicesFromEnv } from '../services.ts';
import { logStrayRejections } from '../runtime-guard.ts';

// The workflow's task (infra/workflow.asl.json): `run` one background response, or `fail` it
// from the workflow's catch. Thin: the logic is in shared/service/worker.ts.

export interface WorkerEvent {
  action: 'run' | 'fail';
  responseId: string;
  executionId?: string;
  error?: { Error?: string; Cause?: string };
}

/** Leave this much of the Lambda's 15 minutes to write the final state. */
const SAFETY_MARGIN_MS = 30_000;

logStrayRejections();
const services = lazy(() => servicesFromEnv(process.env, noLauncher));

export async function handler(event: WorkerEvent, context?: { getRemainingTimeInMillis?: () => number }) {
  const svc = await services();
  try {
    if (event.action === 'fail') return await markFailed(svc, event);
    const remaining = context?.getRemainingTimeInMillis?.();
    return await runBackground(svc, {
      responseId: event.responseId,
      executionId: event.executionId ?? event.responseId,
      deadlineMs: remaining ? Date.now() + remaining - SAFETY_MARGIN_MS : undefined,
    });
  } finally {
    publishMetrics();
  }
}
