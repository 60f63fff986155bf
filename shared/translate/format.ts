import type { JsonObject } from '../protocol/types.ts';
import { TranslationError } from './errors.ts';

export type ChatResponseFormat =
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: unknown; strict?: boolean; description?: string } };

/** Responses `text.format` -> Chat `response_format` (undefined for plain text). */
export function textFormatToResponseFormat(text?: JsonObject | null): ChatResponseFormat | undefined {
  const f = text?.format as JsonObject | null | undefined;
  if (!f || f.type === 'text') return undefined;
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type === 'json_schema') {
    if (typeof f.name !== 'string') throw new TranslationError('text.format.name is required.', 'text.format.name');
    const js: { name: string; schema?: unknown; strict?: boolean; description?: string } = { name: f.name };
    if (f.schema != null) js.schema = f.schema;
    if (typeof f.strict === 'boolean') js.strict = f.strict;
    if (typeof f.description === 'string') js.description = f.description;
    return { type: 'json_schema', json_schema: js };
  }
  throw new TranslationError(`text.format type '${String(f.type)}' is not supported.`, 'text.format');
}
