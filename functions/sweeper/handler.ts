import { log } from '../../shared/log.ts';
import { count, publishMetrics } from '../../shared/metrics.ts';
import { sweepOrphans } from '../../shared/service/sweep.ts';
import { lazy, noLauncher, servicesFromEnv } from '../services.ts';
import { logStrayRejections } from '../runtime-guard.ts';

// Run by the EventBridge schedule (locally: a timer in the server): shared/service/sweep.ts.

logStrayRejections();
// Its config is cut to the keys it reads (infra/stack.ts): notices about the rest would be noise.
const services = lazy(() => servicesFromEnv(process.env, noLauncher, { notices: false }));

export async function handler(): Promise<{ failed: number }> {
  const failed = await sweepOrphans(await services());
  if (failed > 0) log.info('marked orphaned responses failed', { failed });
  count('OrphansFailed', failed);
  publishMetrics();
  return { failed };
}
