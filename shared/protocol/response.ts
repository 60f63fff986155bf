import { echoedFields, type CreateRequest } from './request-fields.ts';
import type { OutputItem, ResponseObject, ResponseStatus, Usage } from './types.ts';

/** The SDK's `output_text`: every output_text part of every assistant message, joined. */
export function outputTextOf(output: readonly OutputItem[]): string {
  let text = '';
  for (const item of output) {
    if (item.type !== 'message' || !Array.isArray(item.content)) continue;
    for (const part of item.content as Array<{ type: string; text?: string }>) {
      if (part.type === 'output_text' && typeof part.text === 'string') text += part.text;
    }
  }
  return text;
}

export interface ResponseInit {
  id: string;
  model: string;
  createdAt: number;
  status?: ResponseStatus;
  request?: Partial<CreateRequest>;
  output?: OutputItem[];
  usage?: Usage | null;
}

/**
 * A Response object carrying every field of the public API, the request's settings echoed
 * back as OpenAI does (null where unset). Pure: the caller supplies id and clock.
 */
export function newResponseObject(init: ResponseInit): ResponseObject {
  const req = init.request ?? {};
  const output = init.output ?? [];
  const status = init.status ?? 'completed';
  // The echoed fields are added to the literal, not spread into it: a spread copied them one by one through a slow path.
  return echoedFields(req, {
    id: init.id,
    object: 'response',
    created_at: init.createdAt,
    completed_at: status === 'completed' ? init.createdAt : null,
    status,
    error: null,
    incomplete_details: null,
    model: init.model,
    output,
    output_text: outputTextOf(output),
    prompt: null,
    usage: init.usage ?? null,
  }) as ResponseObject;
}

/** The spec's `build_response_object(response_id, model, output_items)`. */
export const buildResponseObject = (a: { response_id: string; model: string; output_items: OutputItem[]; usage?: Usage | null; created_at?: number }) =>
  newResponseObject({ id: a.response_id, model: a.model, output: a.output_items, usage: a.usage ?? null, createdAt: a.created_at ?? Math.floor(Date.now() / 1000) });
