import { itemTypeOf } from '../protocol/input-schema.ts';
import { idPrefixOf, newId, type IdPrefix } from '../protocol/ids.ts';
import type { InputItem, JsonObject, OutputItem } from '../protocol/types.ts';

/**
 * Input as we store and list it under /input_items: typed items with ids, message contents as
 * part lists. Returns fresh objects; the caller's input is never mutated.
 */
export function normalizeInputItems(input: string | InputItem[], makeId: (prefix: IdPrefix) => string = newId): InputItem[] {
  if (typeof input === 'string') {
    return [{ type: 'message', id: makeId('msg'), role: 'user', content: [{ type: 'input_text', text: input }], status: 'completed' }];
  }
  return input.map((item): InputItem => {
    const type = itemTypeOf(item);
    // Items keep their own ids; one without gets ours (conversations and listings need one).
    const id = item.id ?? makeId(idPrefixOf(type));
    switch (type) {
      case 'message': {
        const content = typeof item.content === 'string'
          ? [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: item.content }]
          : Array.isArray(item.content) ? item.content.map((p) => ({ ...(p as JsonObject) })) : item.content;
        return { ...item, type: 'message', id, content, status: item.status ?? 'completed' };
      }
      case 'function_call':
      case 'function_call_output':
        return { ...item, id, status: item.status ?? 'completed' };
      case 'custom_tool_call':
      case 'custom_tool_call_output':
        return { ...item, id };
      default: // reasoning and the rest: copied whole
        return { ...structuredClone(item), id };
    }
  });
}

/** A stored response's output, replayed as history for the next turn. */
export function outputItemsToInputItems(output: readonly OutputItem[]): InputItem[] {
  return output.map((item): InputItem => {
    if (item.type === 'message') {
      // Assistant history; ids are dropped since a backend may not know ours.
      const content = Array.isArray(item.content) ? item.content.map((p) => ({ ...(p as JsonObject) })) : item.content;
      return { type: 'message', role: 'assistant', content };
    }
    return structuredClone(item) as InputItem;
  });
}
