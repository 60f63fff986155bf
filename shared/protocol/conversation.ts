// The Conversations API's bodies and objects (openai SDK v7: resources/conversations).
import * as z from 'zod/mini';
import { inputItem } from './input-schema.ts';
import { metadata, parseBody } from './validate.ts';
import type { InputItem } from './types.ts';

/** At most this many items per create / items.create call (OpenAI's limit). */
const MAX_ITEMS_PER_CALL = 20;

const items = z.array(inputItem).check(z.maxLength(MAX_ITEMS_PER_CALL));

const createBody = z.looseObject({
  items: z.nullish(items),
  metadata: z.nullish(metadata),
});
const updateBody = z.looseObject({ metadata: z.nullable(metadata) });
const itemsBody = z.looseObject({ items: items.check(z.minLength(1)) });

export interface CreateConversationBody { items?: InputItem[] | null; metadata?: Record<string, string> | null }
export interface UpdateConversationBody { metadata: Record<string, string> | null }
export interface CreateItemsBody { items: InputItem[] }

export const parseCreateConversation = (body: unknown): CreateConversationBody => parseBody(createBody, body) as CreateConversationBody;
export const parseUpdateConversation = (body: unknown): UpdateConversationBody => parseBody(updateBody, body) as UpdateConversationBody;
export const parseCreateItems = (body: unknown): CreateItemsBody => parseBody(itemsBody, body) as CreateItemsBody;

/** The Conversation object. */
export interface ConversationObject {
  id: string;
  object: 'conversation';
  created_at: number;
  metadata: Record<string, string>;
}

/** OpenAI's cursor list of conversation items. */
export interface ItemList {
  object: 'list';
  data: InputItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export function itemList(data: InputItem[], hasMore: boolean): ItemList {
  return {
    object: 'list',
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data.at(-1)?.id as string | undefined) ?? null,
    has_more: hasMore,
  };
}
