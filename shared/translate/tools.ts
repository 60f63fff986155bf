// Responses tools -> Chat Completions tools, and back. A Chat backend knows only functions, so:
// - `function` tools go as they are;
// - `custom` (freeform) tools become a function with one string argument, `input`, whose
//   description tells the model the format (a grammar, when there is one); their calls come back
//   as `custom_tool_call` items with the decoded `input`;
// - `namespace` tools are flattened: each nested tool becomes a function named
//   `<namespace>__<name>` (or a hashed name where that is not a valid, unused Chat name); their
//   calls come back under their own name with their `namespace`;
// - every other (hosted) tool is left out: the model never sees it, and the caller learns which
//   (`unsupported_tools: drop`), or the request is refused naming it (`reject`).
import { createHash } from 'node:crypto';
import type { ChatRequest, JsonObject } from '../protocol/types.ts';
import { TranslationError } from './errors.ts';

export type ChatTool = NonNullable<ChatRequest['tools']>[number];
export type ChatToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/** What a Chat function name stands for in the Responses request. */
export interface ToolTarget { kind: 'function' | 'custom'; name: string; namespace?: string }

/** A tool the Chat backend cannot run, by its place in `tools`. */
export interface LeftOutTool { param: string; type: string }

export interface ToolPlan {
  /** What the model sees. */
  tools: ChatTool[];
  /** The hosted tools left out. */
  leftOut: LeftOutTool[];
  /** The Responses tool behind a Chat function name (undefined: a name the model made up). */
  target(chatName: string): ToolTarget | undefined;
  /** The Chat function name for a Responses call (history replays calls under the names the model knows). */
  chatName(kind: ToolTarget['kind'], name: string, namespace?: string | null): string;
}

export type UnsupportedTools = 'drop' | 'reject';

/** Names every Chat backend accepts (OpenAI's rule; vLLM and llama.cpp templates are happy with it). */
const VALID_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const SEPARATOR = '__';

const key = (kind: string, name: string, namespace?: string | null) => JSON.stringify([kind, namespace ?? null, name]);

/** A valid Chat name for a nested tool: `<namespace>__<name>` or, if that will not do, a hashed one. */
function flatName(namespace: string, name: string, taken: (n: string) => boolean): string {
  const plain = `${namespace}${SEPARATOR}${name}`;
  if (VALID_NAME.test(plain) && !taken(plain)) return plain;
  const hash = createHash('sha256').update(`${namespace}\0${name}`).digest('hex').slice(0, 8);
  const base = plain.replace(/[^a-zA-Z0-9_-]/g, '_');
  for (let n = 0; ; n++) {
    const suffix = n ? `${hash}${n}` : hash;
    const candidate = `${base.slice(0, 63 - suffix.length)}_${suffix}`;
    if (!taken(candidate)) return candidate;
  }
}

/** The function a custom (freeform) tool becomes: one string argument, the format in the description. */
function customToChat(t: JsonObject, chatName: string): ChatTool {
  const format = (t.format ?? null) as JsonObject | null;
  const lines = [typeof t.description === 'string' ? t.description : ''];
  lines.push('Put the whole free-form text this tool takes in the string argument `input`.');
  if (format?.type === 'grammar' && typeof format.definition === 'string') {
    lines.push(`\`input\` must match this ${String(format.syntax ?? '')} grammar:\n${format.definition}`);
  }
  return {
    type: 'function',
    function: {
      name: chatName,
      description: lines.filter(Boolean).join('\n\n'),
      parameters: {
        type: 'object',
        properties: { input: { type: 'string', description: 'The free-form input, exactly as the tool takes it.' } },
        required: ['input'],
        additionalProperties: false,
      },
    },
  };
}

function functionToChat(t: JsonObject, chatName: string): ChatTool {
  const fn: ChatTool['function'] = { name: chatName };
  if (typeof t.description === 'string') fn.description = t.description;
  if (t.parameters != null) fn.parameters = t.parameters;
  if (typeof t.strict === 'boolean') fn.strict = t.strict;
  return { type: 'function', function: fn };
}

const rejectMessage = (type: string) =>
  `Tool type '${type}' is not supported by this backend (a Chat Completions server cannot run hosted tools); ` +
  'remove it, or let the gateway leave it out (unsupported_tools: drop).';

const runsOnChat = (type: unknown): type is 'function' | 'custom' => type === 'function' || type === 'custom';

/** The tools of `tools` a Chat backend cannot run (hosted ones, also inside a namespace): top-level ones first. */
export function leftOutTools(tools: readonly JsonObject[] | null | undefined): LeftOutTool[] {
  const list = tools ?? [];
  const out: LeftOutTool[] = [];
  list.forEach((t, i) => { if (t.type !== 'namespace' && !runsOnChat(t.type)) out.push({ param: `tools[${i}]`, type: String(t.type) }); });
  list.forEach((t, i) => {
    if (t.type !== 'namespace') return;
    ((t.tools ?? []) as JsonObject[]).forEach((inner, j) => { if (!runsOnChat(inner.type)) out.push({ param: `tools[${i}].tools[${j}]`, type: String(inner.type) }); });
  });
  return out;
}

/** The Chat side of `tools` (validated: protocol/input-schema.ts). */
export function planTools(tools: readonly JsonObject[] | null | undefined, mode: UnsupportedTools = 'drop'): ToolPlan {
  const chatTools: ChatTool[] = [];
  const byChatName = new Map<string, ToolTarget>();
  const byKey = new Map<string, string>();
  /** Nested tools by their bare name (null: more than one namespace has it), for a tool_choice that names one. */
  const nested = new Map<string, string | null>();
  const taken = (n: string) => byChatName.has(n);
  const add = (target: ToolTarget, chatName: string, tool: ChatTool) => {
    byChatName.set(chatName, target);
    byKey.set(key(target.kind, target.name, target.namespace), chatName);
    chatTools.push(tool);
  };
  const leftOut = leftOutTools(tools);
  if (mode === 'reject' && leftOut[0]) throw new TranslationError(rejectMessage(leftOut[0].type), leftOut[0].param);
  const list = tools ?? [];
  // Top-level tools keep their own names, so they are placed first; nested ones fit around them.
  list.forEach((t) => {
    if (t.type === 'function' && !taken(String(t.name))) add({ kind: 'function', name: String(t.name) }, String(t.name), functionToChat(t, String(t.name)));
    else if (t.type === 'custom' && !taken(String(t.name))) add({ kind: 'custom', name: String(t.name) }, String(t.name), customToChat(t, String(t.name)));
  });
  list.forEach((t) => {
    if (t.type !== 'namespace') return;
    const namespace = String(t.name);
    ((t.tools ?? []) as JsonObject[]).forEach((inner) => {
      const kind = inner.type;
      if (!runsOnChat(kind)) return; // left out
      const name = String(inner.name);
      const chatName = flatName(namespace, name, taken);
      add({ kind, name, namespace }, chatName, kind === 'custom' ? customToChat(inner, chatName) : functionToChat(inner, chatName));
      nested.set(key(kind, name), nested.has(key(kind, name)) ? null : chatName);
    });
  });
  return {
    tools: chatTools,
    leftOut,
    target: (chatName) => byChatName.get(chatName),
    chatName: (kind, name, namespace) => byKey.get(key(kind, name, namespace))
      ?? (namespace ? flatName(namespace, name, () => false) : nested.get(key(kind, name)) ?? name),
  };
}

/** Hosted tool_choice types and the tool each needs (all left out on Chat backends). */
const HOSTED_CHOICES = new Set([
  'file_search', 'web_search', 'web_search_preview', 'web_search_preview_2025_03_11', 'web_search_2025_08_26',
  'computer', 'computer_use', 'computer_use_preview', 'image_generation', 'code_interpreter', 'mcp', 'shell',
  'local_shell', 'apply_patch', 'tool_search', 'programmatic_tool_calling',
]);

/** Responses `tool_choice` -> Chat's. Naming a tool the backend cannot run is a 400 that says so. */
export function toolChoiceToChat(tc: unknown, plan: ToolPlan): ChatToolChoice | undefined {
  if (tc == null) return undefined;
  if (tc === 'auto' || tc === 'none' || tc === 'required') return tc;
  const o = (typeof tc === 'object' ? tc : {}) as JsonObject;
  if ((o.type === 'function' || o.type === 'custom') && typeof o.name === 'string') {
    return { type: 'function', function: { name: plan.chatName(o.type, o.name) } };
  }
  // Chat backends cannot restrict to a subset of tools; the mode is the closest they understand.
  if (o.type === 'allowed_tools' && (o.mode === 'auto' || o.mode === 'required')) return o.mode;
  if (typeof o.type === 'string' && HOSTED_CHOICES.has(o.type)) {
    throw new TranslationError(
      `tool_choice requires the '${o.type}' tool, which this backend (a Chat Completions server) cannot run: ` +
      'the gateway leaves such tools out. Choose a function or custom tool, or auto.',
      'tool_choice',
    );
  }
  throw new TranslationError(`tool_choice ${JSON.stringify(tc)} is not supported by this backend.`, 'tool_choice');
}

/** Chat function arguments -> a custom tool's raw input: `{"input": "..."}` as the model was told, else the text as it came. */
export function customInputOf(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const o = parsed as JsonObject;
      if (typeof o.input === 'string') return o.input;
      const strings = Object.values(o).filter((v): v is string => typeof v === 'string');
      if (strings.length === 1) return strings[0]!; // the right shape under another name
    }
    if (typeof parsed === 'string') return parsed;
  } catch {
    // not JSON: a model that wrote the freeform text itself
  }
  return args;
}

/** A custom tool call's input as Chat arguments (history). */
export const customArgumentsOf = (input: string): string => JSON.stringify({ input });
