// The bodies of POST /v1/responses/input_tokens (SDK `responses.inputTokens.count`) and
// POST /v1/responses/compact (`responses.compact`): subsets of a create request, each field
// validated as request-fields.ts validates it there. Fields we do not know are let through, as on create.
import * as z from 'zod/mini';
import { checkChaining, FIELDS, type CreateRequest } from './request-fields.ts';
import { parseBody } from './validate.ts';

const countSchema = z.looseObject({
  model: z.nullish(FIELDS.model.schema),
  input: z.nullish(FIELDS.input.schema),
  instructions: FIELDS.instructions.schema,
  previous_response_id: FIELDS.previous_response_id.schema,
  conversation: FIELDS.conversation.schema,
  tools: FIELDS.tools.schema,
  tool_choice: FIELDS.tool_choice.schema,
  parallel_tool_calls: FIELDS.parallel_tool_calls.schema,
  reasoning: FIELDS.reasoning.schema,
  text: FIELDS.text.schema,
  truncation: FIELDS.truncation.schema,
});

const compactSchema = z.looseObject({
  model: FIELDS.model.schema,
  input: z.nullish(FIELDS.input.schema),
  instructions: FIELDS.instructions.schema,
  previous_response_id: FIELDS.previous_response_id.schema,
  prompt_cache_key: FIELDS.prompt_cache_key.schema,
  service_tier: FIELDS.service_tier.schema,
});

export type CountRequest = z.output<typeof countSchema>;
export type CompactRequest = z.output<typeof compactSchema>;

/** An input_tokens body (every field optional: the SDK may send none), or a 400 naming the bad parameter. */
export function parseCountRequest(body: unknown): CountRequest {
  const req = parseBody(countSchema, body ?? {});
  checkChaining(req);
  return req;
}

export function parseCompactRequest(body: unknown): CompactRequest {
  return parseBody(compactSchema, body);
}

/** Such a request as a create request of `model` (what the Chat translation and the native body builders take). */
export const asCreateRequest = (req: CountRequest | CompactRequest, model: string): CreateRequest =>
  ({ ...req, model, input: req.input ?? [] }) as CreateRequest;
