import type { Config } from '../config.ts';
import type { Backend, Clock, SlotStore } from '../ports.ts';
import { EndpointChooser, slotKey } from './choose-endpoint.ts';
import { Router } from './router.ts';
import { SlotLeases } from './slots.ts';

export { EndpointChooser, slotKey, type Choice } from './choose-endpoint.ts';
export { Router, type Routed } from './router.ts';
export { SlotLeases, type Lease } from './slots.ts';

/** The router a process uses, from its config. */
export function buildRouter(config: Config, backend: Backend, slots: SlotStore, clock: Clock): Router {
  const leases = new SlotLeases(slots, clock, { max: config.maxConcurrentConnections, leaseMs: config.slotLeaseMs });
  const chooser = new EndpointChooser(config.endpoints, backend, clock, {
    ttlMs: config.modelListTtlMs,
    loadOf: (c) => leases.inUse(slotKey(c)),
  });
  return new Router(chooser, leases, {
    slotWaitMs: config.slotWaitMs,
    retryAfterSeconds: config.retryAfterSeconds,
    maxAttempts: config.maxAttempts,
    retryBackoffMs: config.retryBackoffMs,
  });
}
