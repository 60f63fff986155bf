// A scripted "model" for the fake upstreams that works a Codex task the way a coding model would,
// reading what it is sent (Chat messages or Responses input items): for a prompt starting with
// TASK it first runs `cat notes.txt` with exec_command, then edits the file with the freeform
// apply_patch tool, then answers DONE; asked for a summary (Codex's compaction prompt, or the
// gateway's), it writes one that says how far the task got, so the turn after a compaction goes on
// from there; anything else it answers in one line.
import type { RecordedRequest, Reply } from './fake-upstream.ts';
import { COMPACTION_PROMPT, SUMMARY_PREFIX } from '../../shared/translate/compaction.ts';

export const NOTES_BEFORE = 'status: todo\n';
export const NOTES_AFTER = 'status: done by the model\n';
export const PATCH = '*** Begin Patch\n*** Update File: notes.txt\n-status: todo\n+status: done by the model\n*** End Patch\n';
/** Codex's own compaction prompt (custom providers compact with an ordinary request) begins so. */
export const CODEX_COMPACTION = 'CONTEXT CHECKPOINT COMPACTION';

/** What the model reads: the last user message, and how many tool results came after it. */
interface View { user: string; results: number; compactionRequest: boolean }

const text = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: any) => p?.text ?? '').join('\n') : '';

function chatView(messages: any[]): View {
  const at = messages.map((m) => m.role).lastIndexOf('user');
  const user = at < 0 ? '' : text(messages[at].content);
  return { user, results: messages.slice(at + 1).filter((m) => m.role === 'tool').length, compactionRequest: false };
}

function responsesView(input: any[]): View {
  const items = typeof input === 'string' ? [{ role: 'user', content: input }] : input;
  const at = items.map((i) => ((i.type ?? 'message') === 'message' ? i.role : '')).lastIndexOf('user');
  const user = at < 0 ? '' : text(items[at].content);
  const results = items.slice(at + 1).filter((i) => /_call_output$/.test(i.type ?? '')).length;
  return { user, results, compactionRequest: items.at(-1)?.type === 'compaction_trigger' };
}

export interface ModelOptions {
  /** Report this many input tokens on the first TASK request (then few): Codex's auto-compaction then runs once. */
  bigFirstUsage?: number;
}

/** The fake upstream's `fallback` for Codex: Chat requests (ollama / vllm flavors) and Responses requests (openai). */
export function codexModel(opts: ModelOptions = {}): (req: RecordedRequest) => Reply {
  let big = opts.bigFirstUsage;
  return (req) => {
    const native = req.path === '/v1/responses';
    const view = native ? responsesView(req.body.input ?? []) : chatView(req.body.messages ?? []);
    const usage = { prompt: 400, completion: 20 };
    if (view.compactionRequest || view.user.includes(CODEX_COMPACTION) || view.user.includes(COMPACTION_PROMPT)) {
      // How far the task got: tool results anywhere in what is being compacted, plus any earlier summary's count.
      const done = (JSON.stringify(req.body).match(/"role":"tool"|"type":"(function_call|custom_tool_call)_output"/g) ?? []).length + stepsIn(view.user);
      return { text: `SUMMARY: the TASK on notes.txt has ${done} steps done.`, usage };
    }
    const step = stepsIn(view.user) + view.results;
    if (!view.user.includes('TASK')) return { text: `ANSWER: I changed notes.txt earlier (${view.user.length} chars asked).`, usage };
    if (big && step === 0) {
      usage.prompt = big;
      big = undefined;
    }
    if (step === 0) return { toolCalls: [{ name: 'exec_command', arguments: JSON.stringify({ cmd: 'cat notes.txt' }) }], usage };
    if (step === 1) {
      return { toolCalls: [native ? { name: 'apply_patch', custom: true, arguments: PATCH } : { name: 'apply_patch', arguments: JSON.stringify({ input: PATCH }) }], usage };
    }
    return { text: 'DONE: notes.txt now says done.', usage };
  };
}

/** Steps a summary in this text says were done (0 without one). */
function stepsIn(user: string): number {
  if (!user.includes('SUMMARY:') && !user.includes(SUMMARY_PREFIX)) return 0;
  return Number(/has (\d+) steps done/.exec(user)?.[1] ?? 0);
}
