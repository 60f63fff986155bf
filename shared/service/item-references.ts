import { badRequest } from '../protocol/errors.ts';
import { responseIdOfItem } from '../protocol/ids.ts';
import { itemTypeOf } from '../protocol/input-schema.ts';
import type { CreateRequest } from '../protocol/request-fields.ts';
import type { InputItem } from '../protocol/types.ts';
import { outputItemsToInputItems } from '../translate/index.ts';
import type { Caller, Services } from './context.ts';

/**
 * Replaces `{type: 'item_reference', id}` input items (the AI SDK and Codex send them for items
 * of earlier responses) with the stored items they name. An item id names its response
 * (protocol/ids.ts itemIdsFor), so each referenced response is read once, in parallel, and only
 * the caller's own responses can be referenced.
 */
export async function resolveItemReferences(svc: Services, caller: Caller, input: CreateRequest['input']): Promise<CreateRequest['input']> {
  if (typeof input === 'string' || !input.some(isReference)) return input;
  const responseIds = new Set(input.filter(isReference).map((item) => responseIdOfItem(String(item.id)) ?? ''));
  const records = new Map(await Promise.all([...responseIds].map(async (rid) =>
    [rid, rid ? await svc.store.get(rid, caller.principal) : null] as const)));
  return input.map((item, i) => {
    if (!isReference(item)) return item;
    const id = String(item.id);
    const rec = records.get(responseIdOfItem(id) ?? '');
    const found = rec?.input.find((x) => x.id === id)
      ?? (rec ? outputItemsToInputItems(rec.response.output.filter((x) => x.id === id)).map((x) => ({ ...x, id }))[0] : undefined);
    if (!found) throw badRequest(`Item with id '${id}' not found.`, `input[${i}].id`, 'not_found');
    return found;
  });
}

/** `{type: 'item_reference', id}`, or the SDK's bare `{id}` (type absent or null, no role). */
const isReference = (item: InputItem): boolean => itemTypeOf(item) === 'item_reference';
