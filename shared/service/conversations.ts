// The Conversations API (`/v1/conversations`, as OpenAI's) and the `conversation` parameter of
// create: a conversation's items are the history of a turn, and a finished turn's input and
// output are appended to it. Everything is scoped to the caller, like stored responses: someone
// else's conversation is a 404 on every route and on create.
import { ApiError, badRequest, notFound } from '../protocol/errors.ts';
import { isConversationId, newId } from '../protocol/ids.ts';
import {
  itemList, type ConversationObject, type CreateConversationBody, type CreateItemsBody,
  type ItemList, type UpdateConversationBody,
} from '../protocol/conversation.ts';
import { MAX_ITEM_ID_LENGTH } from '../protocol/input-schema.ts';
import type { CreateRequest } from '../protocol/request-fields.ts';
import type { InputItem, ResponseObject } from '../protocol/types.ts';
import { listParams, type ListQuery } from '../protocol/validate.ts';
import { log } from '../log.ts';
import type { StoredConversation } from '../ports.ts';
import { normalizeInputItems } from '../translate/index.ts';
import { resolveItemReferences } from './item-references.ts';
import type { Caller, Services } from './context.ts';

const conversationNotFound = (id: string, param: string | null = null) => notFound(`Conversation with id '${id}' not found.`, param);
const itemNotFound = (id: string) => notFound(`Item with id '${id}' not found.`);

const toObject = (c: StoredConversation): ConversationObject => ({ id: c.id, object: 'conversation', created_at: c.createdAt, metadata: c.metadata });

/**
 * Items as a conversation holds them: normalized like stored input (typed, message content as
 * parts) and each with a string id (new ones by type; items keep the ids they come with), unique
 * among them. Throws 400 naming `param[i].id`.
 */
function toConversationItems(items: InputItem[], param: string): InputItem[] {
  const out = normalizeInputItems(items);
  checkItemIds(out, param);
  return out;
}

function checkItemIds(items: readonly InputItem[], param: string, taken: ReadonlySet<string> = new Set()): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const id = item.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ITEM_ID_LENGTH) {
      throw badRequest(`Invalid '${param}[${i}].id': a string of 1 to ${MAX_ITEM_ID_LENGTH} characters expected.`, `${param}[${i}].id`, 'invalid_value');
    }
    if (seen.has(id) || taken.has(id)) {
      throw badRequest(`Duplicate item found with id ${id}. Remove duplicate items from your input and try again.`, `${param}[${i}].id`, 'duplicate_item');
    }
    seen.add(id);
  });
}

/** `item_reference` items resolved to the stored items they name; errors name `items[i]`. */
async function resolveReferences(svc: Services, caller: Caller, items: InputItem[]): Promise<InputItem[]> {
  try {
    return await resolveItemReferences(svc, caller, items) as InputItem[];
  } catch (err) {
    if (err instanceof ApiError && err.param?.startsWith('input')) {
      throw new ApiError(err.status, err.message, err.type, `items${err.param.slice('input'.length)}`, err.code);
    }
    throw err;
  }
}

async function load(svc: Services, caller: Caller, id: string): Promise<StoredConversation> {
  const conv = isConversationId(id) ? await svc.conversations.get(id, caller.principal) : null;
  if (!conv) throw conversationNotFound(id);
  return conv;
}

/** Item ids in paths: anything we could have stored. */
const isItemId = (id: string) => id.length > 0 && id.length <= MAX_ITEM_ID_LENGTH;

// ── routes ─────────────────────────────────────────────────────────────────

/** `POST /v1/conversations` */
export async function createConversation(svc: Services, caller: Caller, body: CreateConversationBody): Promise<ConversationObject> {
  const items = toConversationItems(await resolveReferences(svc, caller, body.items ?? []), 'items');
  const conv: StoredConversation = {
    id: newId('conv'),
    owner: caller.principal,
    createdAt: Math.floor(svc.clock.nowMs() / 1000),
    metadata: body.metadata ?? {},
  };
  await svc.conversations.create(conv, items);
  return toObject(conv);
}

/** `GET /v1/conversations/{id}` */
export async function retrieveConversation(svc: Services, caller: Caller, id: string): Promise<ConversationObject> {
  return toObject(await load(svc, caller, id));
}

/** `POST /v1/conversations/{id}`: replaces the metadata. */
export async function updateConversation(svc: Services, caller: Caller, id: string, body: UpdateConversationBody): Promise<ConversationObject> {
  const conv = isConversationId(id) ? await svc.conversations.updateMetadata(id, caller.principal, body.metadata ?? {}) : null;
  if (!conv) throw conversationNotFound(id);
  return toObject(conv);
}

/** `DELETE /v1/conversations/{id}` */
export async function deleteConversation(svc: Services, caller: Caller, id: string) {
  if (!isConversationId(id) || !(await svc.conversations.delete(id, caller.principal))) throw conversationNotFound(id);
  return { id, object: 'conversation.deleted' as const, deleted: true as const };
}

/** `POST /v1/conversations/{id}/items`: appended after every item already there. */
export async function createItems(svc: Services, caller: Caller, id: string, body: CreateItemsBody): Promise<ItemList> {
  if (!isConversationId(id)) throw conversationNotFound(id);
  const items = toConversationItems(await resolveReferences(svc, caller, body.items), 'items');
  const [, taken] = await Promise.all([load(svc, caller, id), svc.conversations.existingItemIds(id, items.map((item) => item.id as string))]);
  checkItemIds(items, 'items', taken);
  if (!(await svc.conversations.append(id, caller.principal, items))) throw conversationNotFound(id);
  return itemList(items, false);
}

/** `GET /v1/conversations/{id}/items`: OpenAI's cursor list, newest first by default. */
export async function listItems(svc: Services, caller: Caller, id: string, q: Pick<ListQuery, 'limit' | 'order' | 'after'>): Promise<ItemList> {
  const { limit, order } = listParams(q);
  if (q.after != null && !isItemId(q.after)) throw badRequest(`No item with id '${q.after}' in conversation '${id}'.`, 'after', 'invalid_value');
  const page = isConversationId(id)
    ? await svc.conversations.listItems(id, caller.principal, { order, limit, ...(q.after != null ? { after: q.after } : {}) })
    : null;
  if (!page) throw conversationNotFound(id);
  if (page === 'bad_cursor') throw badRequest(`No item with id '${q.after}' in conversation '${id}'.`, 'after', 'invalid_value');
  return itemList(page.items, page.hasMore);
}

/** `GET /v1/conversations/{id}/items/{item_id}` */
export async function retrieveItem(svc: Services, caller: Caller, id: string, itemId: string): Promise<InputItem> {
  const item = isConversationId(id) && isItemId(itemId) ? await svc.conversations.getItem(id, caller.principal, itemId) : null;
  if (item) return item;
  await load(svc, caller, id); // which of the two is missing
  throw itemNotFound(itemId);
}

/** `DELETE /v1/conversations/{id}/items/{item_id}`: answers with the conversation. */
export async function deleteItem(svc: Services, caller: Caller, id: string, itemId: string): Promise<ConversationObject> {
  const conv = isConversationId(id) && isItemId(itemId) ? await svc.conversations.deleteItem(id, caller.principal, itemId) : null;
  if (conv) return toObject(conv);
  await load(svc, caller, id);
  throw itemNotFound(itemId);
}

// ── `conversation` on create ───────────────────────────────────────────────

/** The conversation a create request names, or null. */
export function conversationIdOf(req: Pick<CreateRequest, 'conversation'>): string | null {
  const c = req.conversation;
  if (c == null) return null;
  return typeof c === 'string' ? c : c.id;
}

/** Every item of the caller's conversation, oldest first: a turn's history. 404 naming `conversation`. */
export async function conversationHistory(svc: Services, owner: string, id: string): Promise<InputItem[]> {
  const loaded = isConversationId(id) ? await svc.conversations.load(id, owner) : null;
  if (!loaded) throw conversationNotFound(id, 'conversation');
  return loaded.items;
}

/** This turn's input as conversation items: string ids, none already in the conversation (400). */
export function checkTurnInput(history: readonly InputItem[], input: readonly InputItem[]): void {
  const taken = new Set(history.map((item) => item.id).filter((id): id is string => typeof id === 'string'));
  checkItemIds(input, 'input', taken);
}

/** Statuses whose turn is kept: the model answered (in full, or up to a limit). */
const KEPT = new Set(['completed', 'incomplete']);

/**
 * After a turn: its input and output appended to the conversation, if it completed (or ended
 * incomplete). Never throws: the answer stands, a failure is logged. `onlyNew` skips items
 * already there (a background run retried after it appended).
 */
export async function appendTurn(
  svc: Services, owner: string, conversationId: string, input: readonly InputItem[], response: ResponseObject, onlyNew = false,
): Promise<void> {
  if (!KEPT.has(response.status)) return;
  let items = [...input, ...(response.output as InputItem[])];
  try {
    if (onlyNew) {
      const there = await svc.conversations.existingItemIds(conversationId, items.map((item) => String(item.id)));
      items = items.filter((item) => !there.has(String(item.id)));
    }
    if (!(await svc.conversations.append(conversationId, owner, items))) {
      log.warn('the conversation was deleted before the turn could be added', { id: response.id, conversation: conversationId });
    }
  } catch (err) {
    log.error('could not add the turn to the conversation', { id: response.id, conversation: conversationId, error: err as Error });
  }
}
