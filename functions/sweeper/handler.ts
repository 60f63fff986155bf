import { getServices } from '../api/services.ts';

// Run by the EventBridge schedule (locally: a timer in the server). Marks queued / in_progress
// responses with no heartbeat for `orphan_after_ms` as failed: workers and foreground streams
// whose process died. The sweep is a Query of a sparse index, never a Scan.

export async function handler(): Promise<{ failed: number }> {
  const svc = await getServices();
  const failed = await svc.store.failOrphaned(svc.config.orphanAfterMs, svc.clock.nowMs());
  if (failed > 0) console.log(JSON.stringify({ level: 'info', msg: 'marked orphaned responses failed', failed }));
  return { failed };
}
