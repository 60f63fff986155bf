import { SfnLauncher } from '../../shared/adapters/sfn-launcher.ts';
import { lazy, servicesFromEnv } from '../services.ts';
import { apiHandler } from './app.ts';
import { logStrayRejections } from '../runtime-guard.ts';

// The API Lambda's entry: its services from the environment, built on the first request (and
// again on the next, if that failed); background jobs start as Step Functions executions.
logStrayRejections();
export const handler = apiHandler(lazy(() => servicesFromEnv(process.env, (_svc, env) => new SfnLauncher(env.STATE_MACHINE_ARN ?? '', env))));
