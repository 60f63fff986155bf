// Tools on Chat backends, both ways: custom (freeform) tools as one-string functions, namespace
// tools flattened under reversible names, hosted tools left out or refused; their calls back as
// the items their tools call for; their history as Chat messages.
import { describe, expect, it } from 'vitest';
import {
  buildChatRequest, chatMessageToOutputItems, customInputOf, planTools, responsesInputToMessages, toolChoiceToChat, TranslationError,
} from '../../shared/translate/index.ts';
import { parseCreateRequest } from '../../shared/protocol/request-fields.ts';
import type { JsonObject } from '../../shared/protocol/types.ts';

const APPLY_PATCH = {
  type: 'custom', name: 'apply_patch', description: 'Edit files. This is a FREEFORM tool.',
  format: { type: 'grammar', syntax: 'lark', definition: 'start: begin_patch hunk+ end_patch' },
};
const MULTI_AGENT = {
  type: 'namespace', name: 'multi_agent_v1', description: 'Sub-agents.',
  tools: [
    { type: 'function', name: 'close_agent', strict: false, parameters: { type: 'object', properties: { target: { type: 'string' } }, required: ['target'] } },
    { type: 'function', name: 'spawn_agent', parameters: { type: 'object' } },
  ],
};
const EXEC = { type: 'function', name: 'exec_command', parameters: { type: 'object', properties: { cmd: { type: 'string' } } }, strict: false };

function thrown(fn: () => unknown): TranslationError {
  try { fn(); } catch (err) { if (err instanceof TranslationError) return err; throw err; }
  throw new Error('expected a TranslationError');
}

const ids = () => { let n = 0; return { msg: () => `msg_${++n}`, fc: () => `fc_${++n}`, ctc: () => `ctc_${++n}`, rs: () => `rs_${++n}` }; };

describe('planTools', () => {
  it('gives a custom tool one string argument and tells the model its grammar', () => {
    const [fn] = planTools([APPLY_PATCH]).tools;
    expect(fn!.function.name).toBe('apply_patch');
    expect(fn!.function.parameters).toEqual({
      type: 'object', properties: { input: { type: 'string', description: expect.any(String) } }, required: ['input'], additionalProperties: false,
    });
    expect(fn!.function.description).toContain('Edit files. This is a FREEFORM tool.');
    expect(fn!.function.description).toContain('lark grammar:\nstart: begin_patch hunk+ end_patch');
    // Without a grammar: still one string, no grammar text.
    const plain = planTools([{ type: 'custom', name: 'note' }]).tools[0]!;
    expect(plain.function.description).not.toContain('grammar');
    expect(plain.function.parameters).toMatchObject({ required: ['input'] });
  });

  it('flattens a namespace under `<namespace>__<name>`, and maps the names back', () => {
    const plan = planTools([EXEC, MULTI_AGENT]);
    expect(plan.tools.map((t) => t.function.name)).toEqual(['exec_command', 'multi_agent_v1__close_agent', 'multi_agent_v1__spawn_agent']);
    expect(plan.tools[1]!.function).toMatchObject({ strict: false, parameters: MULTI_AGENT.tools[0]!.parameters });
    expect(plan.target('multi_agent_v1__close_agent')).toEqual({ kind: 'function', name: 'close_agent', namespace: 'multi_agent_v1' });
    expect(plan.target('exec_command')).toEqual({ kind: 'function', name: 'exec_command' });
    expect(plan.target('made_up')).toBeUndefined();
    expect(plan.chatName('function', 'close_agent', 'multi_agent_v1')).toBe('multi_agent_v1__close_agent');
  });

  it('gives names every backend accepts, free of collisions, when the plain one will not do', () => {
    const long = 'n'.repeat(60);
    const plan = planTools([
      { type: 'function', name: 'a__b' }, // a top-level function keeps its name...
      { type: 'namespace', name: 'a', description: '', tools: [{ type: 'function', name: 'b' }] }, // ...so this one is hashed
      { type: 'namespace', name: 'x.y', description: '', tools: [{ type: 'function', name: 'z z' }, { type: 'custom', name: long }] },
    ]);
    const names = plan.tools.map((t) => t.function.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(names[0]).toBe('a__b');
    expect(plan.target(names[1]!)).toEqual({ kind: 'function', name: 'b', namespace: 'a' });
    expect(plan.target(names[2]!)).toEqual({ kind: 'function', name: 'z z', namespace: 'x.y' });
    expect(plan.target(names[3]!)).toEqual({ kind: 'custom', name: long, namespace: 'x.y' });
    // The same request gives the same names (history written under them reads back).
    expect(planTools([{ type: 'function', name: 'a__b' }, { type: 'namespace', name: 'a', description: '', tools: [{ type: 'function', name: 'b' }] }]).tools[1]!.function.name).toBe(names[1]);
  });

  it('leaves hosted tools out (named by their place), or refuses the first with `reject`', () => {
    const tools = [EXEC, { type: 'web_search' }, MULTI_AGENT, { type: 'tool_search', execution: 'client' }, { type: 'namespace', name: 'n', description: '', tools: [{ type: 'mcp' }] }];
    const plan = planTools(tools);
    expect(plan.tools).toHaveLength(3);
    expect(plan.leftOut).toEqual([{ param: 'tools[1]', type: 'web_search' }, { param: 'tools[3]', type: 'tool_search' }, { param: 'tools[4].tools[0]', type: 'mcp' }]);
    const err = thrown(() => planTools(tools, 'reject'));
    expect(err.param).toBe('tools[1]');
    expect(err.message).toMatch(/'web_search' is not supported by this backend.*unsupported_tools: drop/);
  });
});

describe('tool_choice on Chat backends', () => {
  const plan = planTools([EXEC, APPLY_PATCH, { type: 'web_search' }]);

  it('names a custom tool, or a namespace function named by itself, by its Chat function', () => {
    expect(toolChoiceToChat({ type: 'custom', name: 'apply_patch' }, plan)).toEqual({ type: 'function', function: { name: 'apply_patch' } });
    expect(toolChoiceToChat({ type: 'function', name: 'spawn_agent' }, planTools([MULTI_AGENT]))).toEqual({ type: 'function', function: { name: 'multi_agent_v1__spawn_agent' } });
  });

  it('refuses a choice of a left-out tool, saying why', () => {
    const err = thrown(() => toolChoiceToChat({ type: 'web_search_preview' }, plan));
    expect(err.param).toBe('tool_choice');
    expect(err.message).toMatch(/requires the 'web_search_preview' tool, which this backend .* cannot run/);
  });

  it("refuses 'required' when every tool was left out", () => {
    const req = parseCreateRequest({ model: 'm', input: 'x', tools: [{ type: 'web_search' }], tool_choice: 'required' });
    expect(thrown(() => buildChatRequest(req, [], 'm', { stream: false })).param).toBe('tool_choice');
  });
});

describe('tool calls back from a Chat backend', () => {
  const plan = planTools([EXEC, APPLY_PATCH, MULTI_AGENT]);
  const patch = '*** Begin Patch\n*** Add File: a.txt\n+hi "there"\n*** End Patch\n';

  it('a custom tool call is a custom_tool_call with the raw input; a namespaced one keeps its namespace', () => {
    const items = chatMessageToOutputItems({
      role: 'assistant', content: null,
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'apply_patch', arguments: JSON.stringify({ input: patch }) } },
        { id: 'call_2', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: '{"task":"x"}' } },
        { id: 'call_3', type: 'function', function: { name: 'exec_command', arguments: '{"cmd":"ls"}' } },
      ],
    }, ids(), plan);
    expect(items).toEqual([
      { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_1', name: 'apply_patch', input: patch, status: 'completed' },
      { type: 'function_call', id: 'fc_2', call_id: 'call_2', namespace: 'multi_agent_v1', name: 'spawn_agent', arguments: '{"task":"x"}', status: 'completed' },
      { type: 'function_call', id: 'fc_3', call_id: 'call_3', name: 'exec_command', arguments: '{"cmd":"ls"}', status: 'completed' },
    ]);
  });

  it('reads a custom input however the model wrote it', () => {
    expect(customInputOf('{"input":"a\\nb"}')).toBe('a\nb');
    expect(customInputOf('{"patch":"p"}')).toBe('p'); // the right shape under another name
    expect(customInputOf('"just a string"')).toBe('just a string');
    expect(customInputOf('*** Begin Patch')).toBe('*** Begin Patch'); // not JSON: the text itself
    expect(customInputOf('{"a":1,"b":2}')).toBe('{"a":1,"b":2}');
  });
});

describe('history on Chat backends', () => {
  const plan = planTools([EXEC, APPLY_PATCH, MULTI_AGENT]);
  // What Codex sends back after a tool loop (ids and statuses of its own, reasoning without content).
  const history: JsonObject[] = [
    { type: 'message', id: 'msg_a', role: 'developer', content: [{ type: 'input_text', text: 'base prompt' }] },
    { type: 'message', id: 'msg_b', role: 'developer', content: [{ type: 'input_text', text: '<skills>' }, { type: 'input_text', text: '<permissions>' }] },
    { type: 'message', id: 'msg_c', role: 'user', content: [{ type: 'input_text', text: '<environment_context/>' }] },
    { type: 'message', id: 'msg_d', role: 'user', content: [{ type: 'input_text', text: 'create hello.txt' }] },
    { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'thinking' }], content: null, encrypted_content: 'ENC_x' },
    { type: 'custom_tool_call', id: 'ctc_1', status: 'completed', call_id: 'call_p', name: 'apply_patch', input: 'PATCH' },
    { type: 'custom_tool_call_output', id: 'ctco_1', call_id: 'call_p', output: 'Success.' },
    { type: 'function_call', id: 'fc_1', status: 'completed', call_id: 'call_s', namespace: 'multi_agent_v1', name: 'spawn_agent', arguments: '{}' },
    { type: 'function_call_output', id: 'fco_1', call_id: 'call_s', output: 'spawned' },
    { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'q' } },
    { type: 'compaction', id: 'cmp_1', encrypted_content: 'opaque' },
    { type: 'message', id: 'msg_e', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Done.', annotations: [] }] },
    { type: 'message', id: 'msg_f', role: 'developer', content: 'late rule' },
    { role: 'user', content: 'continue' },
  ];

  it('becomes one system message, alternating turns, calls under the names the model knows', () => {
    expect(responsesInputToMessages(history, null, { tools: plan })).toEqual([
      { role: 'system', content: 'base prompt\n\n<skills>\n<permissions>\n\nlate rule' },
      { role: 'user', content: '<environment_context/>\n\ncreate hello.txt' },
      { role: 'assistant', content: null, reasoning_content: 'thinking', tool_calls: [{ id: 'call_p', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"PATCH"}' } }] },
      { role: 'tool', tool_call_id: 'call_p', content: 'Success.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_s', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_s', content: 'spawned' },
      // web_search_call and compaction: nothing a Chat model can use.
      { role: 'assistant', content: 'Done.' },
      { role: 'user', content: 'continue' },
    ]);
  });

  it('instructions come first in the one system message', () => {
    expect(responsesInputToMessages([{ role: 'developer', content: 'dev' }, { role: 'user', content: 'q' }], 'inst')).toEqual([
      { role: 'system', content: 'inst\n\ndev' }, { role: 'user', content: 'q' },
    ]);
  });
});
