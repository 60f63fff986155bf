// Input items and tools are checked per `type`: every shape the openai SDK v7 defines that a client
// sends back is accepted (nullable fields as null, any client's ids and statuses), and an error
// names the exact path, never the whole union.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/protocol/errors.ts';
import { parseCreateRequest } from '../../shared/protocol/request-fields.ts';
import { parseCreateItems } from '../../shared/protocol/conversation.ts';

const codex = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/codex/${name}.request.json`, import.meta.url), 'utf8'));

function refused(body: unknown): { message: string; param: string | null } {
  try {
    parseCreateRequest(body);
  } catch (err) {
    if (err instanceof ApiError) return { message: err.message, param: err.param };
    throw err;
  }
  throw new Error('expected a 400');
}

/** One of every input item a client may send back, as the SDK's types define them. */
const EVERY_ITEM = [
  { role: 'user', content: 'easy message' },
  { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'rules' }], id: 'msg_any-client-1', status: 'completed' },
  { type: 'message', role: 'assistant', id: 'msg_x', status: 'completed', phase: 'final_answer', content: [{ type: 'output_text', text: 'a', annotations: [], logprobs: null }, { type: 'refusal', refusal: 'no' }] },
  { type: 'message', role: 'user', content: [{ type: 'input_image', image_url: null, file_id: 'file_1', detail: 'auto' }, { type: 'input_file', file_data: 'data:text/plain;base64,aGk=', filename: 'a.txt' }] },
  { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 's' }], content: null, encrypted_content: 'ENC' },
  { type: 'reasoning', summary: [], encrypted_content: null },
  { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '{}', status: 'completed' },
  { type: 'function_call_output', id: 'fco_uuid', call_id: 'call_1', output: [{ type: 'input_text', text: 'ok' }], status: null },
  { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_2', name: 'apply_patch', input: '*** Begin Patch', status: 'completed' },
  { type: 'custom_tool_call_output', id: 'ctco_uuid', call_id: 'call_2', output: 'done' },
  { type: 'compaction', id: 'cmp_1', encrypted_content: 'blob' },
  { type: 'compaction', encrypted_content: 'blob', id: null },
  { type: 'compaction_trigger' },
  { type: 'item_reference', id: 'msg_1' },
  { id: 'msg_2' }, // an item reference without its type
  { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'q' } },
  { type: 'file_search_call', id: 'fs_1', status: 'completed', queries: ['q'], results: null },
  { type: 'computer_call', id: 'cu_1', call_id: 'c', status: 'completed', pending_safety_checks: [], action: { type: 'click' } },
  { type: 'computer_call_output', call_id: 'c', output: { type: 'computer_screenshot', image_url: 'data:' } },
  { type: 'tool_search_call', id: 'tsc_1', call_id: 'call_t', execution: 'client', status: 'completed', arguments: { query: 'agents' } },
  { type: 'tool_search_output', call_id: 'call_t', execution: 'client', status: 'completed', tools: [] },
  { type: 'additional_tools', role: 'developer', tools: [] },
  { type: 'configuration_update' },
  { type: 'image_generation_call', id: 'ig_1', status: 'completed', result: null },
  { type: 'code_interpreter_call', id: 'ci_1', status: 'completed', code: null, container_id: 'cntr', outputs: null },
  { type: 'local_shell_call', id: 'ls_1', call_id: 'c', status: 'completed', action: { type: 'exec', command: ['ls'] } },
  { type: 'local_shell_call_output', id: 'lso_1', output: 'a' },
  { type: 'shell_call', call_id: 'c', action: { commands: ['ls'] } },
  { type: 'shell_call_output', call_id: 'c', output: [] },
  { type: 'apply_patch_call', call_id: 'c', status: 'completed', operation: { type: 'create_file', path: 'a', diff: '' } },
  { type: 'apply_patch_call_output', call_id: 'c', status: 'completed', output: null },
  { type: 'mcp_list_tools', id: 'ml_1', server_label: 's', tools: [] },
  { type: 'mcp_approval_request', id: 'ma_1', arguments: '{}', name: 'n', server_label: 's' },
  { type: 'mcp_approval_response', approval_request_id: 'ma_1', approve: true },
  { type: 'mcp_call', id: 'mc_1', arguments: '{}', name: 'n', server_label: 's', output: null, error: null },
  { type: 'program', id: 'p_1', call_id: 'c', code: 'x', fingerprint: 'f' },
  { type: 'program_output', id: 'po_1', call_id: 'c', status: 'completed', result: { ok: true } },
];

describe('input items', () => {
  it('accepts every item a client may send back', () => {
    expect(parseCreateRequest({ model: 'm', input: EVERY_ITEM }).input).toEqual(EVERY_ITEM);
  });

  it("accepts Codex's requests as it sends them (reasoning with content null, custom tool calls, its own ids)", () => {
    for (const name of ['llama3.2-sayhi', 'gpt-5.5-sayhi', 'gpt-5.5-resume']) {
      const body = codex(name);
      expect(parseCreateRequest(body).input, name).toEqual(body.input);
    }
  });

  it.each([
    ['reasoning content of the wrong type', { type: 'reasoning', summary: [], content: 'x' }, "Invalid type for 'input[4].content': got a string.", 'input[4].content'],
    ['a reasoning item without its summary', { type: 'reasoning', content: null }, "Missing required parameter: 'input[4].summary'.", 'input[4].summary'],
    ['a summary part without text', { type: 'reasoning', summary: [{ type: 'summary_text' }] }, null, 'input[4].summary[0].text'],
    ['a custom tool call without input', { type: 'custom_tool_call', call_id: 'c', name: 'apply_patch' }, null, 'input[4].input'],
    ['message content that is neither text nor a list', { role: 'user', content: 7 }, "Invalid type for 'input[4].content': got a number.", 'input[4].content'],
    ['a bad part deep in a message', { role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_text', text: 1 }] }, null, 'input[4].content[1].text'],
    ['a function call output with a bad part', { type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text' }] }, null, 'input[4].output[0].text'],
    ['an unknown role', { role: 'tool', content: 'x' }, null, 'input[4].role'],
    ['an item with neither type nor role', { content: 'x' }, "Missing required parameter: 'input[4].type'.", 'input[4].type'],
    ['a web_search_call without its status', { type: 'web_search_call', id: 'ws', action: {} }, null, 'input[4].status'],
    ['an item that is not an object', 'text', null, 'input[4]'],
  ])('%s: a 400 naming the exact path', (_name, bad, message, param) => {
    const input = [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }, { role: 'user', content: 'c' }, { role: 'user', content: 'd' }, bad];
    const err = refused({ model: 'm', input });
    expect(err.param).toBe(param);
    if (message) expect(err.message).toBe(message);
  });

  it('leaves item types it does not know to the backend', () => {
    expect(parseCreateRequest({ model: 'm', input: [{ type: 'from_a_newer_sdk', x: 1 }] }).input).toEqual([{ type: 'from_a_newer_sdk', x: 1 }]);
  });

  it('checks conversation items the same way', () => {
    expect(() => parseCreateItems({ items: [{ type: 'reasoning', summary: [], content: null }] })).not.toThrow();
    try {
      parseCreateItems({ items: [{ type: 'custom_tool_call_output', call_id: 'c' }] });
      throw new Error('expected a 400');
    } catch (err) {
      expect((err as ApiError).param).toBe('items[0].output');
    }
  });
});

describe('tools', () => {
  it("accepts Codex's tools: function, custom with a lark grammar, namespace, tool_search, web_search", () => {
    const tools = [...codex('llama3.2-sayhi').tools, ...codex('gpt-5.5-sayhi').tools];
    expect(parseCreateRequest({ model: 'm', input: 'x', tools }).tools).toEqual(tools);
  });

  it.each([
    ['a function without a name', [{ type: 'function', parameters: {} }], 'tools[0].name'],
    ['a custom tool whose grammar has no definition', [{ type: 'custom', name: 'c', format: { type: 'grammar', syntax: 'lark' } }], 'tools[0].format.definition'],
    ['a grammar of an unknown syntax', [{ type: 'custom', name: 'c', format: { type: 'grammar', syntax: 'ebnf', definition: 'x' } }], 'tools[0].format.syntax'],
    ['a namespace tool without a name', [{ type: 'function', name: 'f' }, { type: 'namespace', name: 'n', description: '', tools: [{ type: 'function', name: 'a' }, { type: 'function' }] }], 'tools[1].tools[1].name'],
    ['strict that is not a boolean', [{ type: 'function', name: 'f', strict: 'yes' }], 'tools[0].strict'],
  ])('%s: a 400 naming the path', (_name, tools, param) => {
    expect(refused({ model: 'm', input: 'x', tools }).param).toBe(param);
  });
});

describe('the words of a 400', () => {
  // zod's English messages, quoted as they are (zod/mini loads no locale by itself: without it each would read "Invalid input").
  it.each([
    [{ temperature: 3 }, "Invalid value for 'temperature': Too big: expected number to be <=2."],
    [{ top_p: -0.5 }, "Invalid value for 'top_p': Too small: expected number to be >=0."],
    [{ max_output_tokens: 0 }, "Invalid value for 'max_output_tokens': Too small: expected number to be >=1."],
    [{ model: '' }, "Invalid value for 'model': Too small: expected string to have >=1 characters."],
    [{ truncation: 'x' }, `Invalid value for 'truncation': Invalid option: expected one of "auto"|"disabled".`],
    [{ input: [{ role: 'tool', content: 'x' }] }, `Invalid value for 'input[0].role': Invalid option: expected one of "user"|"assistant"|"system"|"developer".`],
    [{ input: [{ type: 'item_reference', id: 'x'.repeat(257) }] }, "Invalid value for 'input[0].id': Too big: expected string to have <=256 characters."],
  ])('%j: %s', (fields, message) => {
    expect(refused({ model: 'm', input: 'x', ...fields }).message).toBe(message);
  });

  it('says how many conversation items a call takes', () => {
    expect(() => parseCreateItems({ items: Array(21).fill({ role: 'user', content: 'x' }) })).toThrow("Invalid value for 'items': Too big: expected array to have <=20 items.");
  });
});
