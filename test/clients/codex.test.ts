// The real Codex CLI 0.169.0 (npm @openai/codex, its native binary) against the gateway, configured
// with the README's config.toml and model catalog as written (only the address, the catalog path
// and the model name changed): on a Chat backend and a native one it runs a multi-step task
// (exec_command, then the freeform apply_patch editing a file, then an answer), is resumed with
// `codex exec resume --last`, and compacts; its built-in provider speaks WebSocket mode to the local
// server, and falls back to HTTP at once where the handshake is answered 426 (as on Lambda).
// The fake upstreams play a coding model (helpers/codex-model.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type System } from '../helpers/harness.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { CodexSession, codexMissing, execArgs, readmeBlock, resumeArgs } from '../helpers/codex.ts';
import { CODEX_COMPACTION, codexModel, NOTES_AFTER, NOTES_BEFORE, PATCH } from '../helpers/codex-model.ts';
import { COMPACTION_PROMPT, SUMMARY_PREFIX } from '../../shared/translate/compaction.ts';

const missing = codexMissing();
if (missing) console.warn(`test/clients/codex.test.ts: SKIPPED, the Codex binary cannot run here: ${missing}`);

const CONFIG = readmeBlock('### Codex CLI', 'toml');
const CATALOG = readmeBlock('`~/.codex/gateway-models.json`', 'json');
const TASK = 'TASK: mark notes.txt as done';

/** The README's files for a gateway at `base`, serving `model`; `top`: top-level keys added. */
function session(base: string, model: string, top = ''): CodexSession {
  const config = CONFIG.replace('http://127.0.0.1:12434/v1', base)
    .replace('/home/you/.codex/gateway-models.json', '${CATALOG}')
    .replace('model = "llama3.2"', `model = "${model}"\n${top}`);
  const s = new CodexSession(config, CATALOG.replaceAll('llama3.2', model));
  s.file('notes.txt', NOTES_BEFORE);
  return s;
}

const chats = (u: FakeUpstream) => u.requests.filter((r) => r.path === '/v1/chat/completions');
const texts = (messages: any[]) => messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '')));

// A run takes about half a second; each is killed after 20 s (helpers/codex.ts), a test has two at most.
describe.skipIf(missing !== null)(`Codex CLI 0.169 through the gateway${missing ? ' (SKIPPED)' : ''}`, { timeout: 60_000 }, () => {
  let sys: System;
  const ollama = () => sys.upstreams[0]!;
  const openai = () => sys.upstreams[1]!;

  beforeAll(async () => {
    sys = await startSystem({
      upstreams: [{ flavor: 'ollama', models: ['llama3.2:latest'] }, { flavor: 'openai', models: ['gpt-5.5'] }],
      extraConfig: 'reasoning_keys: ["codex-test-reasoning-key-0123456789abcdef"]',
    });
  });
  afterAll(() => sys?.close());

  it('runs the commands the README shows', () => {
    const shown = readmeBlock('`~/.codex/gateway-models.json`', 'sh');
    expect(shown).toContain(`codex ${execArgs('').slice(0, -1).join(' ')} "`);
    expect(shown).toContain(`codex ${resumeArgs('').slice(0, -1).join(' ')} "`);
  });

  it('on a Chat backend: exec_command, then apply_patch edits the file, then the answer; resumed with its whole history', async () => {
    ollama().fallback = codexModel();
    const codex = session(sys.base, 'llama3.2');
    try {
      const before = chats(ollama()).length;
      const run = await codex.run(execArgs(TASK));
      expect(run.code, run.stderr.slice(-3000)).toBe(0);
      expect(codex.file('notes.txt')).toBe(NOTES_AFTER);
      expect(run.stdout).toContain('DONE: notes.txt now says done.');
      const served = chats(ollama()).slice(before).map((r) => r.body);
      expect(served).toHaveLength(3);
      const tools = served[0].tools.map((t: any) => t.function.name);
      expect(tools).toEqual(expect.arrayContaining(['exec_command', 'apply_patch']));
      // The shell's output and the patch's result went back to the model.
      expect(served[1].messages.at(-1)).toMatchObject({ role: 'tool', content: expect.stringContaining('status: todo') });
      expect(served[2].messages.at(-1)).toMatchObject({ role: 'tool', content: expect.stringContaining('notes.txt') });

      const resumed = await codex.run(resumeArgs('What did you change?'));
      expect(resumed.code, resumed.stderr.slice(-3000)).toBe(0);
      expect(resumed.stdout).toContain('ANSWER: I changed notes.txt earlier');
      const history = chats(ollama()).at(-1)!.body.messages;
      const calls = history.flatMap((m: any) => m.tool_calls ?? []).map((c: any) => c.function.name);
      expect(calls).toEqual(['exec_command', 'apply_patch']);
      expect(JSON.parse(history.flatMap((m: any) => m.tool_calls ?? [])[1].function.arguments)).toEqual({ input: PATCH });
      expect(texts(history).join('\n')).toContain('DONE: notes.txt now says done.');
      expect(texts(history).at(-1)).toContain('What did you change?');
    } finally {
      codex.close();
    }
  });

  it("on a Chat backend: Codex's own compaction turn is served, and the task goes on from its summary", async () => {
    ollama().fallback = codexModel({ bigFirstUsage: 50_000 });
    const codex = session(sys.base, 'llama3.2', 'model_auto_compact_token_limit = 20000');
    try {
      const before = chats(ollama()).length;
      const run = await codex.run(execArgs(TASK));
      expect(run.code, run.stderr.slice(-3000)).toBe(0);
      expect(codex.file('notes.txt')).toBe(NOTES_AFTER);
      const served = chats(ollama()).slice(before).map((r) => r.body);
      const compaction = served.findIndex((b) => texts(b.messages).at(-1)!.includes(CODEX_COMPACTION));
      expect(compaction).toBeGreaterThan(0);
      expect(served[compaction]).not.toHaveProperty('tools'); // Codex sends `tools: []`
      const after = served.slice(compaction + 1);
      expect(after.length).toBeGreaterThan(0);
      expect(texts(after[0].messages).join('\n')).toContain('SUMMARY: the TASK on notes.txt has');
      expect(run.stdout).toContain('DONE: notes.txt now says done.');
    } finally {
      codex.close();
    }
  });

  it('on a native backend: the same task, the custom tool and its call passed through; resumed', async () => {
    openai().fallback = codexModel();
    const codex = session(sys.base, 'gpt-5.5');
    try {
      const before = openai().requests.length;
      const run = await codex.run(execArgs(TASK));
      expect(run.code, run.stderr.slice(-3000)).toBe(0);
      expect(codex.file('notes.txt')).toBe(NOTES_AFTER);
      const served = openai().requests.slice(before).filter((r) => r.path === '/v1/responses').map((r) => r.body);
      expect(served).toHaveLength(3);
      expect(served[0].tools).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'custom', name: 'apply_patch' })]));
      expect(served[2].input).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'custom_tool_call', name: 'apply_patch', input: PATCH })]));
      expect(served.every((b) => b.store === false)).toBe(true);

      const resumed = await codex.run(resumeArgs('What did you change?'));
      expect(resumed.code, resumed.stderr.slice(-3000)).toBe(0);
      expect(resumed.stdout).toContain('ANSWER: I changed notes.txt earlier');
      const input = openai().requests.filter((r) => r.path === '/v1/responses').at(-1)!.body.input;
      expect(input.map((i: any) => i.type)).toEqual(expect.arrayContaining(['function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output']));
    } finally {
      codex.close();
    }
  });

  it('on a native backend: its compaction turn passes through, and the task goes on from the summary', async () => {
    openai().fallback = codexModel({ bigFirstUsage: 50_000 });
    const codex = session(sys.base, 'gpt-5.5', 'model_auto_compact_token_limit = 20000');
    try {
      const before = openai().requests.length;
      const run = await codex.run(execArgs(TASK));
      expect(run.code, run.stderr.slice(-3000)).toBe(0);
      expect(codex.file('notes.txt')).toBe(NOTES_AFTER);
      const served = openai().requests.slice(before).filter((r) => r.path === '/v1/responses').map((r) => JSON.stringify(r.body.input));
      const compaction = served.findIndex((input) => input.includes(CODEX_COMPACTION));
      expect(compaction).toBeGreaterThan(0);
      expect(served[compaction + 1]).toContain('SUMMARY: the TASK on notes.txt has');
    } finally {
      codex.close();
    }
  });

  it("with its built-in provider (openai_base_url): WebSocket mode, compaction by compaction_trigger on a Chat backend", async () => {
    ollama().fallback = codexModel({ bigFirstUsage: 50_000 });
    let upgrades = 0;
    let posts = 0;
    const count = () => { upgrades++; };
    const countPosts = (req: { method?: string; url?: string }) => { if (req.method === 'POST' && req.url?.startsWith('/v1/responses')) posts++; };
    sys.gw.server.on('upgrade', count);
    sys.gw.server.on('request', countPosts);
    const config = `model = "llama3.2"\nopenai_base_url = "${sys.base}"\nmodel_catalog_json = "\${CATALOG}"\nmodel_auto_compact_token_limit = 20000\n`;
    const codex = new CodexSession(config, CATALOG);
    codex.file('notes.txt', NOTES_BEFORE);
    try {
      const before = chats(ollama()).length;
      const run = await codex.run(execArgs(TASK), { CODEX_API_KEY: 'unused' });
      expect(run.code, run.stderr.slice(-3000)).toBe(0);
      expect(codex.file('notes.txt')).toBe(NOTES_AFTER);
      expect(upgrades).toBeGreaterThan(0);
      expect(posts).toBe(0); // every response went over the socket
      const served = chats(ollama()).slice(before).map((r) => r.body);
      // The compaction turn: the gateway asked the model for the summary, with no tools ...
      const compaction = served.findIndex((b) => texts(b.messages).at(-1)!.includes(COMPACTION_PROMPT));
      expect(compaction).toBeGreaterThan(0);
      expect(served[compaction]).not.toHaveProperty('tools');
      // ... and the next request carried the sealed compaction item, which the model got as the summary.
      expect(texts(served[compaction + 1].messages).join('\n')).toContain(`${SUMMARY_PREFIX}SUMMARY: the TASK on notes.txt has`);
    } finally {
      sys.gw.server.off('upgrade', count);
      sys.gw.server.off('request', countPosts);
      codex.close();
    }
  });
});

describe.skipIf(missing !== null)('Codex where WebSockets are not served (as on Lambda)', { timeout: 60_000 }, () => {
  it('falls back to HTTP after one 426 answer to its handshake', async () => {
    const sys = await startSystem({ upstreams: [{ flavor: 'ollama', models: ['llama3.2:latest'] }], webSockets: false });
    const seen: string[] = [];
    sys.gw.server.on('request', (req) => { if (req.url?.startsWith('/v1/responses')) seen.push(`${req.method} ${req.headers.upgrade ?? ''}`.trim()); });
    sys.upstreams[0]!.fallback = () => ({ text: 'hi over HTTP' });
    const codex = new CodexSession(`model = "llama3.2"\nopenai_base_url = "${sys.base}"\n`);
    try {
      const run = await codex.run(execArgs('say hi'), { CODEX_API_KEY: 'unused' });
      expect(run.code, run.stderr.slice(-3000)).toBe(0);
      expect(run.stdout).toContain('hi over HTTP');
      expect(seen.filter((s) => s.startsWith('GET'))).toEqual(['GET websocket']);
      expect(seen.filter((s) => s === 'POST')).toHaveLength(1);
    } finally {
      codex.close();
      await sys.close();
    }
  });
});
