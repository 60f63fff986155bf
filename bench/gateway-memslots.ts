// A bench-only variant of `npm start` (functions/local/main.ts): the same gateway, except that
// the concurrency-slot leases live in this process's memory instead of DynamoDB (dynalite). The
// difference from the real server is the cost of the two lease writes every request makes (take
// and release), so the rest of the gateway's own cost can be told apart. Not a product mode.
import { startGateway, defaultConfigPath } from '../functions/local/gateway.ts';
import { buildRouter } from '../shared/routing/index.ts';
import { systemClock, type SlotStore } from '../shared/ports.ts';

class MemorySlotStore implements SlotStore {
  private readonly slots = new Map<string, { holder: string; until: number }>();
  async take(key: string, slot: number, holder: string, untilMs: number, nowMs: number): Promise<boolean> {
    const k = `${key}#${slot}`;
    const cur = this.slots.get(k);
    if (cur && cur.until >= nowMs) return false;
    this.slots.set(k, { holder, until: untilMs });
    return true;
  }
  async held(key: string, nowMs: number): Promise<number[]> {
    const out: number[] = [];
    for (const [k, v] of this.slots) if (k.startsWith(`${key}#`) && v.until >= nowMs) out.push(Number(k.slice(key.length + 1)));
    return out;
  }
  async renew(key: string, slot: number, holder: string, untilMs: number): Promise<boolean> {
    const cur = this.slots.get(`${key}#${slot}`);
    if (cur?.holder !== holder) return false;
    cur.until = untilMs;
    return true;
  }
  async release(key: string, slot: number, holder: string): Promise<void> {
    if (this.slots.get(`${key}#${slot}`)?.holder === holder) this.slots.delete(`${key}#${slot}`);
  }
}

const gateway = await startGateway({ port: Number(process.env.PORT ?? 12434), dataDir: process.env.DATA_DIR ?? '.data', configPath: defaultConfigPath() });
gateway.svc.router = buildRouter(gateway.config, gateway.svc.backend, new MemorySlotStore(), systemClock);
console.log(JSON.stringify({ level: 'info', msg: `Responses API gateway listening on ${gateway.url}/v1 (slot leases in memory: bench variant)` }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void gateway.close().then(() => process.exit(0)); });
