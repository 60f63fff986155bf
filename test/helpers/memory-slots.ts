import type { SlotStore } from '../../shared/ports.ts';

/** The SlotStore port in memory, with the DynamoDB adapter's conditions: for unit tests. */
export class MemorySlotStore implements SlotStore {
  readonly items = new Map<string, { holder: string; untilMs: number }>();
  calls = 0;

  async take(key: string, slot: number, holder: string, untilMs: number, nowMs: number): Promise<boolean> {
    this.calls++;
    const id = `${key}#${slot}`;
    const cur = this.items.get(id);
    if (cur && cur.untilMs >= nowMs) return false;
    this.items.set(id, { holder, untilMs });
    return true;
  }

  async held(key: string, nowMs: number): Promise<number[]> {
    this.calls++;
    return [...this.items].filter(([id, v]) => id.startsWith(`${key}#`) && v.untilMs >= nowMs).map(([id]) => Number(id.slice(key.length + 1)));
  }

  async renew(key: string, slot: number, holder: string, untilMs: number): Promise<boolean> {
    this.calls++;
    const cur = this.items.get(`${key}#${slot}`);
    if (cur?.holder !== holder) return false;
    cur.untilMs = untilMs;
    return true;
  }

  async release(key: string, slot: number, holder: string): Promise<void> {
    this.calls++;
    if (this.items.get(`${key}#${slot}`)?.holder === holder) this.items.delete(`${key}#${slot}`);
  }
}
