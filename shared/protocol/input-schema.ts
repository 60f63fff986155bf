// The shapes a client may send in `input` (and conversation items) and `tools`, per `type`, as
// the openai SDK v7 types define them (resources/responses/responses.d.ts: ResponseInputItem,
// Tool). Each value is checked against the schema of its own type only, so an error names the
// exact path (`input[4].summary`), never the whole union. Nullable fields take null; ids and
// statuses are any client's; fields we do not know pass through (a native upstream gets them).
// A `type` we do not know is left to the backend: a Chat backend refuses it naming the item, a
// native one decides itself.
import * as z from 'zod/mini';
import { isObj, type JsonObject } from './types.ts';

/** Checks an object against the schema its `type` picks (`untyped` names the type of objects without one). */
function byType(options: Record<string, z.ZodMiniType>, what: string, untyped?: (v: JsonObject) => string | undefined): z.ZodMiniType<unknown> {
  const schemas = new Map(Object.entries(options));
  return z.unknown().check(z.superRefine((value, ctx) => {
    if (!isObj(value)) {
      ctx.addIssue({ code: 'invalid_type', expected: 'object', input: value, message: `${what} must be an object` });
      return;
    }
    const type = typeof value.type === 'string' ? value.type : untyped?.(value);
    if (type === undefined) {
      ctx.addIssue({ code: 'invalid_type', expected: 'string', path: ['type'], input: value.type, message: `each ${what} needs a 'type'` });
      return;
    }
    const result = schemas.get(type)?.safeParse(value);
    if (result && !result.success) for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
  }));
}

/** A string, or a list checked by `list` (whose errors keep their own paths). */
function stringOr(list: z.ZodMiniType): z.ZodMiniType<unknown> {
  return z.unknown().check(z.superRefine((value, ctx) => {
    if (typeof value === 'string') return;
    if (!Array.isArray(value)) {
      ctx.addIssue({ code: 'invalid_type', expected: 'string', input: value, message: 'a string or a list expected' });
      return;
    }
    const result = list.safeParse(value);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
  }));
}

const o = z.looseObject;
const str = z.string();
const opt = z.nullish(z.string());
/** Longest item id we take (a conversation item's id is part of a sort key). */
export const MAX_ITEM_ID_LENGTH = 256;
/** Any client's ids (Codex makes its own); bounded: a conversation item's id is part of a key. */
const id = z.nullish(z.string().check(z.maxLength(MAX_ITEM_ID_LENGTH)));
const status = z.nullish(z.string());
const list = z.array(z.unknown());
const object = o({});
/** Required, of any JSON type. */
const present = z.unknown().check(z.refine((v) => v !== undefined, { message: 'required' }));

const contentPart = byType({
  input_text: o({ text: str }),
  output_text: o({ text: str, annotations: z.nullish(list), logprobs: z.nullish(list) }),
  text: o({ text: str }),
  refusal: o({ refusal: str }),
  summary_text: o({ text: str }),
  reasoning_text: o({ text: str }),
  input_image: o({ image_url: opt, file_id: opt, detail: opt }),
  input_file: o({ file_data: opt, file_id: opt, file_url: opt, filename: opt }),
  input_audio: o({ input_audio: o({ data: str, format: str }) }),
}, 'content part');

const parts = z.array(contentPart);
const textPart = o({ text: str });

const ITEMS: Record<string, z.ZodMiniType> = {
  message: o({
    id, status,
    role: z.enum(['user', 'assistant', 'system', 'developer']),
    content: stringOr(parts),
    phase: z.nullish(z.enum(['commentary', 'final_answer'])),
  }),
  function_call: o({ id, status, call_id: str, name: str, arguments: str, namespace: opt }),
  function_call_output: o({ id, status, call_id: opt, output: stringOr(parts), name: opt, namespace: opt }),
  custom_tool_call: o({ id, status, call_id: str, name: str, input: str, namespace: opt }),
  custom_tool_call_output: o({ id, status, call_id: str, output: stringOr(parts) }),
  // content is only ever empty or null on input; encrypted_content is the upstream's (or ours) to open.
  reasoning: o({ id, status, summary: z.array(textPart), content: z.nullish(z.array(textPart)), encrypted_content: opt }),
  compaction: o({ id, encrypted_content: str }),
  compaction_trigger: o({ id }),
  item_reference: o({ id: z.string().check(z.maxLength(MAX_ITEM_ID_LENGTH)) }),
  // Items of hosted tools come back as the upstream made them: their required fields as the SDK has them.
  web_search_call: o({ id: str, status: str, action: object }),
  file_search_call: o({ id: str, status: str, queries: z.array(str), results: z.nullish(list) }),
  computer_call: o({ id: str, status: str, call_id: str, pending_safety_checks: list }),
  computer_call_output: o({ id, status, call_id: str, output: object }),
  tool_search_call: o({ id, status, call_id: opt, execution: opt, arguments: present }),
  tool_search_output: o({ id, status, call_id: opt, execution: opt, tools: list }),
  additional_tools: o({ id, role: z.literal('developer'), tools: list }),
  configuration_update: o({ id }),
  image_generation_call: o({ id: str, status: str, result: z.nullable(z.string()) }),
  code_interpreter_call: o({ id: str, status: str, code: z.nullable(z.string()), container_id: str, outputs: z.nullable(list) }),
  local_shell_call: o({ id: str, status: str, call_id: str, action: object }),
  local_shell_call_output: o({ id: str, status, output: str }),
  shell_call: o({ id, status, call_id: str, action: object }),
  shell_call_output: o({ id, status, call_id: str, output: list }),
  apply_patch_call: o({ id, status: str, call_id: str, operation: object }),
  apply_patch_call_output: o({ id, status: str, call_id: str, output: opt }),
  mcp_list_tools: o({ id: str, server_label: str, tools: list }),
  mcp_approval_request: o({ id: str, arguments: str, name: str, server_label: str }),
  mcp_approval_response: o({ id, approval_request_id: str, approve: z.boolean(), reason: opt }),
  mcp_call: o({ id: str, status, arguments: str, name: str, server_label: str, output: opt, error: opt }),
  program: o({ id: str, call_id: str, code: str, fingerprint: str }),
  program_output: o({ id: str, status: str, call_id: str, result: present }),
};

/**
 * An input item: typed, or an easy message (`{role, content}`), or an item reference (`{id}`,
 * whose `type` the SDK lets be absent or null).
 */
/** The item types the gateway knows (any other is left to the backend). */
export const ITEM_TYPES: ReadonlySet<string> = new Set(Object.keys(ITEMS));

export const inputItem = byType(ITEMS, 'input item', (v) => (v.role !== undefined ? 'message' : v.id !== undefined ? 'item_reference' : undefined));

/** The item type of a validated item (an easy message or a bare reference has none written). */
export const itemTypeOf = (item: { type?: unknown; role?: unknown }): string =>
  typeof item.type === 'string' ? item.type : item.role !== undefined ? 'message' : 'item_reference';

const name = z.string().check(z.minLength(1));
const functionTool = o({ name, description: opt, parameters: z.nullish(object), strict: z.nullish(z.boolean()) });
const customTool = o({
  name,
  description: opt,
  format: z.nullish(byType({ text: object, grammar: o({ syntax: z.enum(['lark', 'regex']), definition: str }) }, 'format')),
});

/** A tool of `tools`: the kinds the gateway maps itself are checked; hosted tools go to the backend as they are. */
export const tool = byType({
  function: functionTool,
  custom: customTool,
  namespace: o({ name, description: opt, tools: z.array(byType({ function: functionTool, custom: customTool }, 'tool')) }),
}, 'tool');
