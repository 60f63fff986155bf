import type { SlotStore } from '../ports.ts';

/**
 * The slots of a gateway that owns its database (npm start on its own DATA_DIR): no other process
 * can hold one, so the leases this process keeps (routing/slots.ts) are the whole truth; nothing
 * is written and nothing renewed. The limit is as exact as with leases in DynamoDB.
 */
export const processSlots: SlotStore = {
  local: true,
  take: async () => true,
  held: async () => [],
  renew: async () => true,
  release: async () => {},
};
