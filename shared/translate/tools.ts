import type { ChatRequest, JsonObject } from '../protocol/types.ts';
import { TranslationError } from './errors.ts';

export type ChatTool = NonNullable<ChatRequest['tools']>[number];
export type ChatToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/** Responses tools (flat) -> Chat tools (nested under `function`). Only function tools exist on chat backends. */
export function toolsResponsesToChat(tools: readonly JsonObject[] | null | undefined): ChatTool[] | undefined {
  if (tools == null) return undefined;
  return tools.map((t, i) => {
    if (t?.type !== 'function') {
      throw new TranslationError(`Tool type '${String(t?.type)}' is not supported by this backend.`, 'tools');
    }
    if (typeof t.name !== 'string' || !t.name) throw new TranslationError(`tools[${i}].name is required.`, 'tools');
    const fn: ChatTool['function'] = { name: t.name };
    if (typeof t.description === 'string') fn.description = t.description;
    if (t.parameters != null) fn.parameters = t.parameters;
    if (typeof t.strict === 'boolean') fn.strict = t.strict;
    return { type: 'function', function: fn };
  });
}

export function toolChoiceResponsesToChat(tc: unknown): ChatToolChoice | undefined {
  if (tc == null) return undefined;
  if (tc === 'auto' || tc === 'none' || tc === 'required') return tc;
  const o = (typeof tc === 'object' ? tc : {}) as JsonObject;
  if (o.type === 'function' && typeof o.name === 'string') return { type: 'function', function: { name: o.name } };
  // Chat backends cannot restrict to a subset of tools; the mode is the closest they understand.
  if (o.type === 'allowed_tools' && (o.mode === 'auto' || o.mode === 'required')) return o.mode;
  throw new TranslationError(`tool_choice ${JSON.stringify(tc)} is not supported by this backend.`, 'tool_choice');
}
