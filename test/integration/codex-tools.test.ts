// Codex's requests as it sends them (test/fixtures/codex: captured from Codex CLI 0.169), served
// over HTTP by the real handler: on an Ollama upstream every tool is either given to the model
// (functions, the namespace flattened, the freeform apply_patch as a one-string function) or left
// out and named in a header; the next turn replays reasoning with content null, a custom tool call
// and a namespaced function call with their outputs; on a native upstream the items pass through.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, sseEvents, startSystem, type System } from '../helpers/harness.ts';
import { validateWithSdk } from '../helpers/sdk-validate.ts';
import { logLines } from '../helpers/log-lines.ts';
import { Sealer } from '../../shared/protocol/sealed.ts';

const codex = (name: string, model: string) => ({
  ...JSON.parse(readFileSync(new URL(`../fixtures/codex/${name}.request.json`, import.meta.url), 'utf8')),
  model,
});
const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+hello "world"\n*** End Patch\n';
const HEADER = 'x-gateway-unsupported-tools';
const REASONING_KEY = 'codex-tools-test-reasoning-key-0123456789';

let sys: System;
const ollama = () => sys.upstreams[0]!;
const openai = () => sys.upstreams[1]!;
const lastBody = (path: string, up = ollama()) => up.requests.filter((r) => r.path === path).at(-1)!.body;

beforeAll(async () => {
  sys = await startSystem({ upstreams: [{ flavor: 'ollama' }, { flavor: 'openai', models: ['gpt-5.5'] }], extraConfig: `reasoning_keys: ["${REASONING_KEY}"]` });
});
afterAll(() => sys.close());

/** Chat messages as common templates take them: one leading system message, no developer role, user/assistant turns never repeated. */
function expectTemplateShaped(messages: Array<{ role: string }>): void {
  expect(messages[0]!.role).toBe('system');
  expect(messages.slice(1).map((m) => m.role)).not.toContain('system');
  expect(messages.map((m) => m.role)).not.toContain('developer');
  messages.forEach((m, i) => {
    if (i > 0 && (m.role === 'user' || m.role === 'assistant')) expect(m.role, `message ${i}`).not.toBe(messages[i - 1]!.role);
  });
}

describe('Codex on a Chat backend (Ollama)', () => {
  it('serves its first request with every tool present: the namespace flattened, web_search left out and named', async () => {
    ollama().script({ text: 'hi' });
    let res!: Awaited<ReturnType<typeof postJson>>;
    const lines = await logLines(async () => { res = await postJson(`${sys.base}/responses`, codex('llama3.2-sayhi', 'llama3.2')); });
    expect(res.status).toBe(200);
    expect(res.headers.get(HEADER)).toBe('web_search');
    const logged = lines.find((l) => l.message === 'request fields a Chat backend cannot take were dropped');
    expect((logged!.dropped as Record<string, string>).tools).toMatch(/left out .*tools\[8\] web_search/);
    const events = sseEvents(res.text);
    expect(events.at(-1)!.data.response.output_text).toBe('hi');
    const sent = lastBody('/v1/chat/completions');
    expect(sent.tools.map((t: any) => t.function.name)).toEqual([
      'exec_command', 'write_stdin', 'request_user_input', 'view_image', 'get_goal', 'create_goal', 'update_goal',
      'multi_agent_v1__close_agent', 'multi_agent_v1__resume_agent', 'multi_agent_v1__send_input', 'multi_agent_v1__spawn_agent', 'multi_agent_v1__wait_agent',
    ]);
    expectTemplateShaped(sent.messages);
    expect(sent.messages[0].content).toContain('Codex CLI');
  });

  it("gives the model the freeform apply_patch as a function of one string, and returns its call as a custom_tool_call, streamed", async () => {
    ollama().script({ toolCalls: [{ id: 'call_patch', name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) }] });
    const res = await postJson(`${sys.base}/responses`, codex('gpt-5.5-sayhi', 'llama3.2'));
    expect(res.status).toBe(200);
    expect(res.headers.get(HEADER)).toBe('tool_search,web_search');
    const sent = lastBody('/v1/chat/completions');
    const applyPatch = sent.tools.find((t: any) => t.function.name === 'apply_patch').function;
    expect(applyPatch.parameters).toMatchObject({ properties: { input: { type: 'string' } }, required: ['input'] });
    expect(applyPatch.description).toContain('lark grammar:\nstart: begin_patch hunk+ end_patch');

    const events = sseEvents(res.text).map((e) => e.data);
    expect(events.filter((e) => e.type === 'response.custom_tool_call_input.delta').map((e) => e.delta).join('')).toBe(PATCH);
    expect(events.find((e) => e.type === 'response.custom_tool_call_input.done')).toMatchObject({ input: PATCH });
    const item = events.find((e) => e.type === 'response.output_item.done')!.item;
    expect(item).toMatchObject({ type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: PATCH, status: 'completed' });
    expect((await validateWithSdk(res.text)).output[0]).toMatchObject({ type: 'custom_tool_call', input: PATCH });
  });

  it('serves the next turn: reasoning with content null, a custom tool call, a namespaced function call, their outputs', async () => {
    const body = codex('gpt-5.5-resume', 'llama3.2');
    // Codex with the multi-agent namespace (its fallback models): a sub-agent was spawned earlier in the turn.
    body.tools = [...body.tools, ...codex('llama3.2-sayhi', 'llama3.2').tools.filter((t: any) => t.type === 'namespace')];
    const last = body.input.pop();
    body.input.push(
      { type: 'function_call', id: 'fc_ns1', status: 'completed', call_id: 'call_spawn', namespace: 'multi_agent_v1', name: 'spawn_agent', arguments: '{"message":"check"}' },
      { type: 'function_call_output', id: 'fco_ns1', call_id: 'call_spawn', output: 'agent 7 spawned' },
      last,
    );
    expect(body.input.find((i: any) => i.type === 'reasoning')).toMatchObject({ content: null, encrypted_content: expect.any(String) });
    // The captured blobs are another server's (a Chat backend cannot read them: a 400); these are as this gateway sealed them.
    const sealer = new Sealer([REASONING_KEY]);
    body.input.filter((i: any) => i.type === 'reasoning').forEach((i: any, n: number) => { i.encrypted_content = sealer.seal('reasoning', `thought ${n}`); });
    ollama().script({ toolCalls: [{ id: 'call_wait', name: 'multi_agent_v1__wait_agent', arguments: '{"targets":["7"]}' }] });
    const res = await postJson(`${sys.base}/responses`, { ...body, stream: false });
    expect(res.status).toBe(200);
    expect(res.json.output).toEqual([expect.objectContaining({
      type: 'function_call', call_id: 'call_wait', namespace: 'multi_agent_v1', name: 'wait_agent', arguments: '{"targets":["7"]}', status: 'completed',
    })]);

    const sent = lastBody('/v1/chat/completions');
    expectTemplateShaped(sent.messages);
    const calls = sent.messages.flatMap((m: any) => m.tool_calls ?? []);
    expect(calls.map((c: any) => c.function.name)).toEqual(['exec_command', 'apply_patch', 'multi_agent_v1__spawn_agent']);
    expect(calls[2].id).toBe('call_spawn');
    const patchCall = calls[1];
    expect(JSON.parse(patchCall.function.arguments).input).toContain('*** Begin Patch');
    const results = sent.messages.filter((m: any) => m.role === 'tool').map((m: any) => m.content);
    expect(results).toHaveLength(3);
    expect(results[1]).toContain('Success. Updated the following files');
    expect(results[2]).toBe('agent 7 spawned');
    expect(sent.messages.filter((m: any) => m.reasoning_content).map((m: any) => m.reasoning_content)).toEqual([
      expect.stringContaining('thought 0'), expect.stringContaining('thought 1'), expect.stringContaining('thought 2'),
    ]);
  });

  it('keeps such items in a conversation, each with an id (ones sent without get ours)', async () => {
    const conv = await postJson(`${sys.base}/conversations`, {});
    ollama().script({ text: 'noted' });
    const input = [
      { role: 'user', content: 'patch it' },
      { type: 'reasoning', summary: [], content: null, encrypted_content: null },
      { type: 'custom_tool_call', call_id: 'call_c1', name: 'apply_patch', input: PATCH },
      { type: 'custom_tool_call_output', call_id: 'call_c1', output: 'Success.' },
    ];
    const res = await postJson(`${sys.base}/responses`, { model: 'llama3.2', conversation: conv.json.id, input, tools: [{ type: 'custom', name: 'apply_patch' }] });
    expect(res.status).toBe(200);
    const items = await getJson(`${sys.base}/conversations/${conv.json.id}/items?order=asc`);
    expect(items.json.data.map((i: any) => [i.type, i.id.split('_')[0]])).toEqual([
      ['message', 'msg'], ['reasoning', 'rs'], ['custom_tool_call', 'ctc'], ['custom_tool_call_output', 'item'], ['message', 'msg'],
    ]);
  });

  it('refuses a tool_choice of a tool the backend cannot run, saying why', async () => {
    const res = await postJson(`${sys.base}/responses`, { ...codex('llama3.2-sayhi', 'llama3.2'), tool_choice: { type: 'web_search' } });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ param: 'tool_choice', message: expect.stringMatching(/requires the 'web_search' tool, which this backend .* cannot run/) });
  });
});

describe('Codex on a native backend', () => {
  it('passes the replayed items through as they came, minus our ids; the Response keeps the upstream tools', async () => {
    const body = codex('gpt-5.5-resume', 'gpt-5.5');
    const tools = [{ type: 'function', name: 'exec_command', description: null, parameters: null, strict: true, defer_loading: false }];
    openai().script({ text: 'done', responseFields: { tools, presence_penalty: undefined, frequency_penalty: undefined } });
    const res = await postJson(`${sys.base}/responses`, { ...body, stream: false });
    expect(res.status).toBe(200);
    const sent = lastBody('/v1/responses', openai());
    expect(sent.store).toBe(false);
    const strip = ({ id: _i, status: _s, ...rest }: any) => rest;
    expect(sent.input).toEqual(body.input.map(strip));
    expect(sent.input.find((i: any) => i.type === 'reasoning')).toMatchObject({ content: null, encrypted_content: expect.any(String) });
    expect(sent.input.find((i: any) => i.type === 'custom_tool_call')).toMatchObject({ name: 'apply_patch', input: expect.stringContaining('*** Begin Patch') });
    expect(res.json.tools).toEqual(tools);
    expect(res.json).toMatchObject({ presence_penalty: 0, frequency_penalty: 0 }); // required, though the upstream left them out
  });

  it('names the exact path of a bad item, never the whole union', async () => {
    const body = codex('gpt-5.5-resume', 'gpt-5.5');
    body.input[4] = { ...body.input[4], content: 'not a list' };
    const res = await postJson(`${sys.base}/responses`, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ param: 'input[4].content', message: "Invalid type for 'input[4].content': got a string." });
  });
});

describe('unsupported_tools: reject', () => {
  let strict: System;
  beforeAll(async () => { strict = await startSystem({ extraConfig: 'unsupported_tools: reject' }); });
  afterAll(() => strict.close());

  it('refuses a request with a hosted tool, naming it; a background one before it is queued', async () => {
    for (const background of [false, true]) {
      const res = await postJson(`${strict.base}/responses`, { ...codex('llama3.2-sayhi', 'llama3.2'), stream: false, background, store: true });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ param: 'tools[8]', message: expect.stringContaining("Tool type 'web_search' is not supported by this backend") });
    }
    expect(strict.upstreams[0]!.requests.filter((r) => r.path === '/v1/chat/completions')).toEqual([]);
  });
});
