import { describe, expect, it } from 'vitest';
import { buildResponseObject } from '../../shared/protocol/response.ts';
import type { CreateRequest } from '../../shared/protocol/request-fields.ts';
import type { ChatMessage, InputItem } from '../../shared/protocol/types.ts';
import {
  buildChatRequest,
  chatMessageToOutputItems,
  messagesToResponsesInput,
  normalizeInputItems,
  outputItemsToInputItems,
  responsesInputToMessages,
  textFormatToResponseFormat,
  toolChoiceToChat,
  planTools,
  TranslationError,
  usageChatToResponses,
} from '../../shared/translate/index.ts';

/** Deterministic ids: msg_1, fc_2, ... */
function counterIds() {
  let n = 0;
  return { msg: () => `msg_${++n}`, fc: () => `fc_${++n}`, ctc: () => `ctc_${++n}`, rs: () => `rs_${++n}` };
}

/** The TranslationError a call throws (fails the test if it does not throw one). */
function translationError(fn: () => unknown): TranslationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TranslationError);
    return err as TranslationError;
  }
  throw new Error('expected a TranslationError');
}

// ── The spec's TestTranslationInputToMessages ───────────────────────────────

describe('TestTranslationInputToMessages', () => {
  it('test_string_input', () => {
    expect(responsesInputToMessages('hello')).toStrictEqual([{ role: 'user', content: 'hello' }]);
  });

  it('test_instructions_become_system', () => {
    const msgs = responsesInputToMessages('hi', 'be brief');
    expect(msgs[0]).toStrictEqual({ role: 'system', content: 'be brief' });
    expect(msgs[1]).toStrictEqual({ role: 'user', content: 'hi' });
  });

  it('test_item_list_text_and_image', () => {
    const msgs = responsesInputToMessages([
      {
        type: 'message', role: 'user',
        content: [{ type: 'input_text', text: 'describe' }, { type: 'input_image', image_url: 'http://x/y.png' }],
      },
    ]);
    expect(msgs[0]!.role).toBe('user');
    expect(msgs[0]!.content).toStrictEqual([
      { type: 'text', text: 'describe' },
      { type: 'image_url', image_url: { url: 'http://x/y.png' } },
    ]);
  });

  it('test_single_text_part_collapses_to_string', () => {
    const items = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'yo' }] }];
    expect(responsesInputToMessages(items)[0]!.content).toBe('yo');
  });

  it('test_function_call_roundtrip', () => {
    const msgs = responsesInputToMessages([
      { type: 'function_call', call_id: 'c1', name: 'get', arguments: '{"x":1}' },
      { type: 'function_call_output', call_id: 'c1', output: '42' },
    ]);
    expect(msgs[0]!.role).toBe('assistant');
    expect(msgs[0]!.tool_calls![0]!.id).toBe('c1');
    expect(msgs[0]!.tool_calls![0]!.function.name).toBe('get');
    expect(msgs[1]).toStrictEqual({ role: 'tool', tool_call_id: 'c1', content: '42' });
  });
});

// ── The spec's TestTranslationResponseDirection ─────────────────────────────

describe('TestTranslationResponseDirection', () => {
  it('test_chat_message_to_output_items_text', () => {
    const items = chatMessageToOutputItems({ role: 'assistant', content: 'hi there' });
    expect(items).toHaveLength(1);
    expect(items[0]!.type).toBe('message');
    // Deliberate difference from the spec: parts also carry `logprobs: []` (Open Responses conformance).
    expect((items[0] as { content: unknown[] }).content[0]).toStrictEqual({
      type: 'output_text', text: 'hi there', annotations: [], logprobs: [],
    });
  });

  it('test_chat_message_to_output_items_tool_call', () => {
    // No `type` on the tool call, as in the spec: backends are not always complete.
    const msg = { role: 'assistant', content: null, tool_calls: [{ id: 'c9', function: { name: 'f', arguments: '{}' } }] } as unknown as ChatMessage;
    const items = chatMessageToOutputItems(msg);
    expect(items[0]).toMatchObject({ type: 'function_call', call_id: 'c9', name: 'f' });
  });

  it('test_usage_mapping', () => {
    // Deliberate difference from the spec: the details objects are always present.
    expect(usageChatToResponses({ prompt_tokens: 7, completion_tokens: 3 })).toStrictEqual({
      input_tokens: 7, output_tokens: 3, total_tokens: 10,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('test_build_response_object_output_text', () => {
    const items = chatMessageToOutputItems({ role: 'assistant', content: 'abc' });
    const obj = buildResponseObject({ response_id: 'resp_1', model: 'm', output_items: items });
    expect(obj.object).toBe('response');
    expect(obj.output_text).toBe('abc');
    expect(obj.status).toBe('completed');
  });

  it('test_tools_responses_to_chat', () => {
    const tools = [{ type: 'function', name: 'f', description: 'd', parameters: { type: 'object' } }];
    expect(planTools(tools).tools).toStrictEqual([
      { type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' } } },
    ]);
  });

  it('test_messages_to_responses_input', () => {
    const { instructions, items } = messagesToResponsesInput([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'yo' },
    ]);
    expect(instructions).toBe('sys');
    expect(items[0]).toStrictEqual({ role: 'user', content: [{ type: 'input_text', text: 'hi' }] });
    expect(items[1]).toStrictEqual({ role: 'assistant', content: [{ type: 'output_text', text: 'yo' }] });
  });
});

// ── responsesInputToMessages ────────────────────────────────────────────────

describe('responsesInputToMessages', () => {
  it('makes developer messages part of the one leading system message, and accepts messages without `type`', () => {
    expect(responsesInputToMessages([
      { role: 'developer', content: 'rules' },
      { role: 'user', content: 'q' },
    ])).toStrictEqual([{ role: 'system', content: 'rules' }, { role: 'user', content: 'q' }]);
  });

  it('puts instructions given as items first', () => {
    expect(responsesInputToMessages('q', [{ role: 'system', content: 's' }])).toStrictEqual([
      { role: 'system', content: 's' },
      { role: 'user', content: 'q' },
    ]);
  });

  it('maps a data URL image with its detail', () => {
    const url = 'data:image/png;base64,AAAA';
    const msgs = responsesInputToMessages([
      { role: 'user', content: [{ type: 'input_text', text: 'what' }, { type: 'input_image', image_url: url, detail: 'low' }] },
    ]);
    expect(msgs[0]!.content).toStrictEqual([
      { type: 'text', text: 'what' },
      { type: 'image_url', image_url: { url, detail: 'low' } },
    ]);
  });

  it('rejects an image given only by file_id', () => {
    const err = translationError(() => responsesInputToMessages([
      { role: 'user', content: [{ type: 'input_text', text: 'x' }, { type: 'input_image', file_id: 'file_1' }] },
    ]));
    expect(err.message).toMatch(/file id/i);
    expect(err.param).toBe('input[0].content[1]');
    expect(err.status).toBe(400);
  });

  it('maps file and audio parts', () => {
    const msgs = responsesInputToMessages([
      {
        role: 'user',
        content: [
          { type: 'input_file', file_data: 'data:application/pdf;base64,JVBE', filename: 'a.pdf' },
          { type: 'input_file', file_id: 'file_9' },
          { type: 'input_audio', input_audio: { data: 'UklG', format: 'wav' } },
        ],
      },
    ]);
    expect(msgs[0]!.content).toStrictEqual([
      { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE', filename: 'a.pdf' } },
      { type: 'file', file: { file_id: 'file_9' } },
      { type: 'input_audio', input_audio: { data: 'UklG', format: 'wav' } },
    ]);
  });

  it('collapses assistant history (output_text and refusal parts) to a string; consecutive assistant turns become one', () => {
    const msgs = responsesInputToMessages([
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'a', annotations: [] }, { type: 'output_text', text: 'b' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] },
    ]);
    expect(msgs).toStrictEqual([{ role: 'assistant', content: 'ab\n\nno' }]);
  });

  it('merges parallel function calls into one assistant message', () => {
    const msgs = responsesInputToMessages([
      { role: 'user', content: 'weather?' },
      { type: 'function_call', call_id: 'a', name: 'w', arguments: '{"c":"x"}' },
      { type: 'function_call', call_id: 'b', name: 'w', arguments: '{"c":"y"}' },
      { type: 'function_call_output', call_id: 'a', output: '1' },
      { type: 'function_call_output', call_id: 'b', output: '2' },
    ]);
    expect(msgs).toStrictEqual([
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant', content: null,
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'w', arguments: '{"c":"x"}' } },
          { id: 'b', type: 'function', function: { name: 'w', arguments: '{"c":"y"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'a', content: '1' },
      { role: 'tool', tool_call_id: 'b', content: '2' },
    ]);
  });

  it('merges assistant text with the function calls after it', () => {
    const msgs = responsesInputToMessages([
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'checking' }] },
      { type: 'function_call', call_id: 'a', name: 'w', arguments: '{}' },
    ]);
    expect(msgs).toStrictEqual([
      { role: 'assistant', content: 'checking', tool_calls: [{ id: 'a', type: 'function', function: { name: 'w', arguments: '{}' } }] },
    ]);
  });

  it('does not merge calls across a tool result', () => {
    const msgs = responsesInputToMessages([
      { type: 'function_call', call_id: 'a', name: 'w', arguments: '{}' },
      { type: 'function_call_output', call_id: 'a', output: '1' },
      { type: 'function_call', call_id: 'b', name: 'w', arguments: '{}' },
    ]);
    expect(msgs.map((m) => m.role)).toStrictEqual(['assistant', 'tool', 'assistant']);
  });

  it('joins text parts of a function_call_output and keeps other parts', () => {
    const msgs = responsesInputToMessages([
      { type: 'function_call_output', call_id: 'a', output: [{ type: 'input_text', text: 'x' }, { type: 'input_text', text: 'y' }] },
      { type: 'function_call_output', call_id: 'b', output: [{ type: 'input_image', image_url: 'http://i' }] },
    ]);
    expect(msgs[0]).toStrictEqual({ role: 'tool', tool_call_id: 'a', content: 'xy' });
    expect(msgs[1]!.content).toStrictEqual([{ type: 'image_url', image_url: { url: 'http://i' } }]);
  });

  const withReasoning: InputItem[] = [
    { role: 'user', content: 'q' },
    { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'sum' }], content: [{ type: 'reasoning_text', text: 'think' }] },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'a' }] },
  ];

  it('replays reasoning onto the next assistant message by default', () => {
    expect(responsesInputToMessages(withReasoning)).toStrictEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a', reasoning_content: 'sum\n\nthink' },
    ]);
  });

  it('replays reasoning onto a function-call-only assistant turn', () => {
    const msgs = responsesInputToMessages([
      { type: 'reasoning', id: 'rs_1', summary: [], content: [{ type: 'reasoning_text', text: 't' }] },
      { type: 'function_call', call_id: 'a', name: 'w', arguments: '{}' },
    ]);
    expect(msgs[0]).toMatchObject({ role: 'assistant', reasoning_content: 't' });
  });

  it('drops reasoning with reasoning: drop', () => {
    expect(responsesInputToMessages(withReasoning, null, { reasoning: 'drop' })).toStrictEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
    ]);
  });

  it('never sends reasoning as its own message, nor onto a later turn', () => {
    const msgs = responsesInputToMessages([
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'lost' }] },
      { role: 'user', content: 'next' },
      { role: 'assistant', content: 'a' },
    ]);
    expect(msgs).toStrictEqual([{ role: 'user', content: 'next' }, { role: 'assistant', content: 'a' }]);
  });

  it('rejects unknown item types and item_reference, naming the item', () => {
    const err = translationError(() => responsesInputToMessages([
      { role: 'user', content: 'a' }, { role: 'user', content: 'b' }, { role: 'user', content: 'c' },
      { type: 'web_searching_call', id: 'ws_1' },
    ]));
    expect(err.message).toContain('web_searching_call');
    expect(err.param).toBe('input[3]');
    const ref = translationError(() => responsesInputToMessages([{ type: 'item_reference', id: 'msg_1' }]));
    expect(ref.message).toContain('item_reference');
    expect(ref.param).toBe('input[0]');
  });

  it('leaves out the known items a Chat model cannot use', () => {
    const notForChat = [
      'web_search_call', 'file_search_call', 'code_interpreter_call', 'image_generation_call',
      'computer_call', 'computer_call_output', 'local_shell_call', 'local_shell_call_output',
      'shell_call', 'shell_call_output', 'apply_patch_call', 'apply_patch_call_output',
      'mcp_list_tools', 'mcp_approval_request', 'mcp_approval_response', 'mcp_call',
      'tool_search_call', 'tool_search_output', 'additional_tools', 'configuration_update',
      'program', 'program_output', 'compaction', 'compaction_trigger',
    ];
    const input: InputItem[] = [{ role: 'user', content: 'q' }, ...notForChat.map((type, i) => ({ type, id: `x_${i}` }))];
    expect(responsesInputToMessages(input)).toStrictEqual([{ role: 'user', content: 'q' }]);
  });
});

// ── chatMessageToOutputItems ────────────────────────────────────────────────

describe('chatMessageToOutputItems', () => {
  it('emits reasoning, message and function calls in order, with ids', () => {
    const items = chatMessageToOutputItems({
      role: 'assistant', content: 'calling', reasoning_content: 'hmm',
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
    }, counterIds());
    expect(items).toStrictEqual([
      { type: 'reasoning', id: 'rs_1', summary: [], content: [{ type: 'reasoning_text', text: 'hmm' }], status: 'completed' },
      { type: 'message', id: 'msg_2', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'calling', annotations: [], logprobs: [] }] },
      { type: 'function_call', id: 'fc_3', call_id: 'c1', name: 'f', arguments: '{"a":1}', status: 'completed' },
    ]);
  });

  it("reads Ollama's `reasoning` field", () => {
    const items = chatMessageToOutputItems({ role: 'assistant', content: 'x', reasoning: 'r' }, counterIds());
    expect(items[0]).toMatchObject({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'r' }] });
  });

  it('maps a refusal to a refusal part', () => {
    const items = chatMessageToOutputItems({ role: 'assistant', content: null, refusal: 'no' }, counterIds());
    expect(items).toStrictEqual([{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: 'no' }] }]);
  });

  it('uses prefixed random ids by default', () => {
    const [item] = chatMessageToOutputItems({ role: 'assistant', content: 'x' });
    expect(item!.id).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});

// ── usage, tools, tool_choice, text.format ──────────────────────────────────

describe('usageChatToResponses', () => {
  it('maps cached and reasoning token details and keeps a given total', () => {
    expect(usageChatToResponses({
      prompt_tokens: 10, completion_tokens: 5, total_tokens: 16,
      prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 },
    })).toStrictEqual({
      input_tokens: 10, output_tokens: 5, total_tokens: 16,
      input_tokens_details: { cached_tokens: 4 }, output_tokens_details: { reasoning_tokens: 2 },
    });
  });

  it('returns null without usage', () => {
    expect(usageChatToResponses(null)).toBeNull();
    expect(usageChatToResponses(undefined)).toBeNull();
  });
});

describe('tools and tool_choice', () => {
  it('keeps strict and omits absent keys', () => {
    expect(planTools([{ type: 'function', name: 'g', strict: true }]).tools).toStrictEqual([
      { type: 'function', function: { name: 'g', strict: true } },
    ]);
  });

  it('leaves hosted tools out, or refuses them naming the tool', () => {
    expect(planTools([{ type: 'web_search' }]).leftOut).toStrictEqual([{ param: 'tools[0]', type: 'web_search' }]);
    const err = translationError(() => planTools([{ type: 'function', name: 'f' }, { type: 'web_search' }], 'reject'));
    expect(err.message).toMatch(/web_search.*not supported by this backend/);
    expect(err.param).toBe('tools[1]');
  });

  it('maps tool_choice values', () => {
    const plan = planTools([{ type: 'function', name: 'f' }]);
    expect(toolChoiceToChat(undefined, plan)).toBeUndefined();
    expect(toolChoiceToChat('required', plan)).toBe('required');
    expect(toolChoiceToChat('none', plan)).toBe('none');
    expect(toolChoiceToChat({ type: 'function', name: 'f' }, plan)).toStrictEqual({ type: 'function', function: { name: 'f' } });
    expect(toolChoiceToChat({ type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'f' }] }, plan)).toBe('required');
    expect(translationError(() => toolChoiceToChat({ type: 'file_search' }, plan)).param).toBe('tool_choice');
  });
});

describe('textFormatToResponseFormat', () => {
  it('maps json_schema, json_object and text', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(textFormatToResponseFormat({ format: { type: 'json_schema', name: 'out', schema, strict: true } })).toStrictEqual({
      type: 'json_schema', json_schema: { name: 'out', schema, strict: true },
    });
    expect(textFormatToResponseFormat({ format: { type: 'json_object' } })).toStrictEqual({ type: 'json_object' });
    expect(textFormatToResponseFormat({ format: { type: 'text' } })).toBeUndefined();
    expect(textFormatToResponseFormat(undefined)).toBeUndefined();
  });
});

// ── buildChatRequest ────────────────────────────────────────────────────────

describe('buildChatRequest', () => {
  const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];

  it('sends only the model and messages when nothing is set', () => {
    const body = buildChatRequest({ model: 'alias', input: 'hi' }, messages, 'llama3', { stream: false });
    expect(body).toStrictEqual({ model: 'llama3', messages });
  });

  it('carries every setting, keeping response_format next to tools', () => {
    const schema = { type: 'object' };
    const req: CreateRequest = {
      model: 'alias', input: 'hi',
      tools: [{ type: 'function', name: 'f' }],
      tool_choice: { type: 'function', name: 'f' },
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'o', schema } },
      temperature: 0.2, top_p: 0.9, max_output_tokens: 64,
      metadata: { k: 'v' }, user: 'u1',
      reasoning: { effort: 'low' },
    };
    expect(buildChatRequest(req, messages, 'm', { stream: true })).toStrictEqual({
      model: 'm', messages,
      stream: true, stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'o', schema } },
      temperature: 0.2, top_p: 0.9, max_tokens: 64,
      user: 'u1',
      reasoning_effort: 'low',
    });
  });

  it('sends tool_choice and parallel_tool_calls only with tools; safety_identifier becomes user', () => {
    const body = buildChatRequest(
      { model: 'a', input: 'hi', tool_choice: 'required', parallel_tool_calls: true, safety_identifier: 's1', temperature: null },
      messages, 'm', { stream: false },
    );
    expect(body).toStrictEqual({ model: 'm', messages, user: 's1' });
  });
});

// ── messagesToResponsesInput ────────────────────────────────────────────────

describe('messagesToResponsesInput', () => {
  it('maps tool calls, tool results, images and joins system messages', () => {
    const { instructions, items } = messagesToResponsesInput([
      { role: 'system', content: 'a' },
      { role: 'system', content: [{ type: 'text', text: 'b' }] },
      { role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'http://i', detail: 'high' } }] },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } },
        { id: 'c2', type: 'function', function: { name: 'g', arguments: '{"x":1}' } },
      ] },
      { role: 'tool', tool_call_id: 'c1', content: 'r1' },
    ]);
    expect(instructions).toBe('a\n\nb');
    expect(items).toStrictEqual([
      { role: 'user', content: [{ type: 'input_text', text: 'see' }, { type: 'input_image', image_url: 'http://i', detail: 'high' }] },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      { type: 'function_call', call_id: 'c2', name: 'g', arguments: '{"x":1}' },
      { type: 'function_call_output', call_id: 'c1', output: 'r1' },
    ]);
  });

  it('returns null instructions without system messages', () => {
    expect(messagesToResponsesInput([{ role: 'user', content: 'x' }]).instructions).toBeNull();
  });
});

// ── normalizeInputItems / outputItemsToInputItems ───────────────────────────

describe('normalizeInputItems', () => {
  const seqId = () => {
    let n = 0;
    return (p: string) => `${p}_${++n}`;
  };

  it('turns a string into a typed user message', () => {
    expect(normalizeInputItems('hi', seqId())).toStrictEqual([
      { type: 'message', id: 'msg_1', role: 'user', content: [{ type: 'input_text', text: 'hi' }], status: 'completed' },
    ]);
  });

  it('types messages, converts string contents and ids calls, without mutating the input', () => {
    const input: InputItem[] = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
      { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c', output: 'r' },
      { type: 'reasoning', id: 'rs_keep', summary: [] },
      { type: 'message', id: 'msg_keep', role: 'user', content: [{ type: 'input_text', text: 'x' }] },
    ];
    const before = structuredClone(input);
    const out = normalizeInputItems(input, seqId());
    expect(input).toStrictEqual(before);
    expect(out).toStrictEqual([
      { type: 'message', id: 'msg_1', role: 'user', content: [{ type: 'input_text', text: 'q' }], status: 'completed' },
      { type: 'message', id: 'msg_2', role: 'assistant', content: [{ type: 'output_text', text: 'a' }], status: 'completed' },
      { type: 'function_call', id: 'fc_3', call_id: 'c', name: 'f', arguments: '{}', status: 'completed' },
      { type: 'function_call_output', id: 'item_4', call_id: 'c', output: 'r', status: 'completed' },
      { type: 'reasoning', id: 'rs_keep', summary: [] },
      { type: 'message', id: 'msg_keep', role: 'user', content: [{ type: 'input_text', text: 'x' }], status: 'completed' },
    ]);
    // Fresh objects all the way down: editing the result leaves the input alone.
    (out[5]!.content as Array<{ text: string }>)[0]!.text = 'changed';
    expect(input).toStrictEqual(before);
  });
});

describe('outputItemsToInputItems', () => {
  it('replays a stored output as history the translator accepts', () => {
    const output = chatMessageToOutputItems({
      role: 'assistant', content: 'hi', reasoning_content: 'r',
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
    }, counterIds());
    const items = outputItemsToInputItems(output);
    expect(items[0]).toStrictEqual(output[0]);
    expect(items[1]).toStrictEqual({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hi', annotations: [], logprobs: [] }] });
    expect(items[2]).toStrictEqual(output[2]);
    expect(responsesInputToMessages(items)).toStrictEqual([
      { role: 'assistant', content: 'hi', reasoning_content: 'r', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ]);
  });
});
