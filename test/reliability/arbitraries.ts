// Generators of bad (and some good) requests for the fuzz suite. Every request is described as
// bytes on the wire (method, request target, headers, body, or a whole raw message), so paths
// with `../`, `%00` or raw UTF-8 reach the server exactly as written, and an expectation:
//   'any'  - a 2xx or a 4xx (valid-looking input may succeed);
//   '4xx'  - the input is invalid by construction: a 4xx is required (and `param`, when set,
//            must prefix the error's param);
//   number - exactly this status (413 for bodies over the limit, 401 for bad keys).
// Whatever the expectation, a 5xx, a missing answer or a 4xx outside OpenAI's envelope fails.
import fc from 'fast-check';

export const KEY = 'key-fuzz';
export const CHAT_MODEL = 'test-model';
export const NATIVE_MODEL = 'native-model';
/** The local server's (and Lambda's) request payload limit. */
export const LIMIT = 6 * 1024 * 1024;

export type Expect = 'any' | '4xx' | number;

export interface FuzzRequest {
  /** Row of the counts table. */
  route: string;
  /** What kind of input this is, for failure messages. */
  what: string;
  method: string;
  /** The request-target as sent: ASCII text, or raw bytes. */
  target: string | Uint8Array;
  headers: Array<[string, string]>;
  body?: string | Uint8Array;
  /** Send the body with `transfer-encoding: chunked` instead of a content-length. */
  chunked?: boolean;
  /** A whole HTTP message sent as it is (method/target/headers/body are then labels only). */
  raw?: string | Uint8Array;
  expect: Expect;
  param?: string;
}

/** Stored responses made before the run, so ids that exist are fuzzed too. */
export interface Seeds {
  /** Never deleted by the fuzzer. */
  ids: string[];
  /** Offered to DELETE only. */
  deletable: string[];
  /** Input item ids of the seeds (cursors for `after` / `before`). */
  itemIds: string[];
}

const AUTH: Array<[string, string]> = [['authorization', `Bearer ${KEY}`]];
const JSON_CT: Array<[string, string]> = [['content-type', 'application/json']];

const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);
/** Bytes as text, with every byte outside printable ASCII as \xHH. */
const bytesText = (v: Uint8Array): string =>
  Array.from(v.subarray(0, 200), (b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
const show = (v: string | Uint8Array | undefined): string =>
  v === undefined ? '' : typeof v === 'string' ? clip(JSON.stringify(v)) : `bytes(${v.length}) ${clip(bytesText(v), 120)}`;

export function describeRequest(r: FuzzRequest): string {
  if (r.raw !== undefined) return `[${r.what}] raw ${show(r.raw)}`;
  const headers = r.headers.map(([k, v]) => `${k}: ${clip(v, 40)}`).join('; ');
  return `[${r.what}] ${r.method} ${show(r.target)} {${headers}}${r.chunked ? ' chunked' : ''} body=${show(r.body)} expect=${r.expect}${r.param ? ` param^=${r.param}` : ''}`;
}

/** A request that fast-check prints briefly (bodies can be megabytes). */
export function fuzzRequest(r: FuzzRequest): FuzzRequest {
  Object.defineProperty(r, fc.toStringMethod, { value: () => describeRequest(r), enumerable: false });
  return r;
}

// ── encodings ────────────────────────────────────────────────────────────────

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD): always decodable. */
export const encodeSegment = (s: string): string =>
  Array.from(Buffer.from(s, 'utf8'), (b) => (UNRESERVED.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
const percentBytes = (bytes: Uint8Array): string => Array.from(bytes, (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** The path the server routes on (it resolves targets the same way), or null. */
export function routedPath(target: string | Uint8Array): string | null {
  const t = typeof target === 'string' ? target : Buffer.from(target).toString('latin1');
  try {
    return new URL(t.startsWith('/') ? `http://local${t}` : t, 'http://local').pathname;
  } catch {
    return null;
  }
}

/** A 1 MB string that does not compress to nothing: xorshift over a small alphabet. */
export function bigString(chars: number, alphabet: string, seed: number): string {
  const symbols = Array.from(alphabet);
  let x = seed | 0 || 1;
  const out: string[] = new Array(chars);
  for (let i = 0; i < chars; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = symbols[(x >>> 0) % symbols.length]!;
  }
  return out.join('');
}

// ── the real request shape ──────────────────────────────────────────────────

const shortText = fc.string({ maxLength: 24 });
const inputText = fc.record({ type: fc.constant('input_text'), text: shortText });
const inputImage = fc.record({ type: fc.constant('input_image'), image_url: fc.constant('data:image/png;base64,iVBORw0KGgo='), detail: fc.constantFrom('auto', 'low', 'high') }, { requiredKeys: ['type', 'image_url'] });
const userMessage = fc.record({
  type: fc.constant('message'),
  role: fc.constantFrom('user', 'system', 'developer'),
  content: fc.oneof(shortText, fc.array(fc.oneof(inputText, inputImage), { minLength: 1, maxLength: 3 })),
}, { requiredKeys: ['role', 'content'] });
const assistantMessage = fc.record({
  role: fc.constant('assistant'),
  content: fc.oneof(shortText, fc.array(fc.record({ type: fc.constant('output_text'), text: shortText }), { minLength: 1, maxLength: 2 })),
});
const functionCall = fc.record({ type: fc.constant('function_call'), call_id: fc.constant('call_1'), name: fc.constant('add'), arguments: fc.constant('{"a":1}') });
const functionOutput = fc.record({ type: fc.constant('function_call_output'), call_id: fc.constant('call_1'), output: shortText });
const validItem = fc.oneof(userMessage, assistantMessage, functionCall, functionOutput);
const functionTool = fc.record({
  type: fc.constant('function'),
  name: fc.constantFrom('add', 'get_weather'),
  description: shortText,
  parameters: fc.constant({ type: 'object', properties: { city: { type: 'string' } } }),
  strict: fc.boolean(),
}, { requiredKeys: ['type', 'name'] });

export type Body = Record<string, unknown>;

/** A body the validator accepts: every documented field, each optional except model and input. */
export function validBody(seeds: Seeds): fc.Arbitrary<Body> {
  return fc.record({
    model: fc.constantFrom(CHAT_MODEL, CHAT_MODEL, NATIVE_MODEL),
    input: fc.oneof(shortText, fc.array(validItem, { minLength: 1, maxLength: 4 })),
    instructions: fc.option(shortText, { nil: null }),
    previous_response_id: fc.option(fc.constantFrom(...seeds.ids), { nil: null }),
    stream: fc.boolean(),
    store: fc.boolean(),
    background: fc.constant(false),
    tools: fc.array(functionTool, { maxLength: 2 }),
    tool_choice: fc.constantFrom('auto', 'none', 'required', { type: 'function', name: 'add' }),
    text: fc.constantFrom({ format: { type: 'text' } }, { format: { type: 'json_object' } }, { format: { type: 'json_schema', name: 's', schema: { type: 'object' } } }),
    reasoning: fc.record({ effort: fc.constantFrom('low', 'medium', 'high', null) }),
    temperature: fc.double({ min: 0, max: 2, noNaN: true }),
    top_p: fc.double({ min: 0, max: 1, noNaN: true }),
    max_output_tokens: fc.integer({ min: 1, max: 4096 }),
    max_tool_calls: fc.integer({ min: 1, max: 8 }),
    parallel_tool_calls: fc.boolean(),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 3 }),
    user: shortText,
    safety_identifier: shortText,
    prompt_cache_key: shortText,
    service_tier: fc.constantFrom('auto', 'default'),
    truncation: fc.constantFrom('auto', 'disabled'),
    top_logprobs: fc.integer({ min: 0, max: 20 }),
    include: fc.array(fc.constantFrom('reasoning.encrypted_content', 'message.output_text.logprobs'), { maxLength: 2 }),
    stream_options: fc.constant({}),
    nomyo: fc.record({ cache: fc.boolean() }),
  }, { requiredKeys: ['model', 'input'] });
}

// ── bodies as requests ──────────────────────────────────────────────────────

const transport = fc.record({ chunked: fc.boolean(), contentType: fc.constantFrom<Array<[string, string]>>(JSON_CT, JSON_CT, JSON_CT, [], [['content-type', 'text/plain']], [['content-type', 'application/json; charset=latin1']]) });

function createRequest(what: string, body: string | Uint8Array, t: { chunked: boolean; contentType: Array<[string, string]> }, expect: Expect, param?: string): FuzzRequest {
  return fuzzRequest({ route: 'POST /v1/responses', what, method: 'POST', target: '/v1/responses', headers: [...AUTH, ...t.contentType], body, chunked: t.chunked, expect, param });
}

/** JSON text of a body, keeping own `__proto__` keys (set with defineProperty) as keys. */
const toJson = (body: unknown): string => JSON.stringify(body) ?? 'null';

type Step = string | number;
/** Sets or deletes at `path`, creating objects/arrays on the way. Never throws. */
function mutate(body: Body, path: Step[], op: 'set' | 'delete', value: unknown): Body {
  const root = structuredClone(body);
  let node: any = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (node[key] === null || typeof node[key] !== 'object') {
      if (op === 'delete') return root;
      node[key] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = node[key];
  }
  const last = path.at(-1)!;
  if (op === 'delete') {
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else delete node[last];
  } else {
    Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

const TOP_FIELDS = ['model', 'input', 'instructions', 'previous_response_id', 'stream', 'store', 'background', 'tools', 'tool_choice', 'text', 'reasoning', 'temperature', 'top_p', 'max_output_tokens', 'max_tool_calls', 'parallel_tool_calls', 'metadata', 'user', 'safety_identifier', 'prompt_cache_key', 'service_tier', 'truncation', 'top_logprobs', 'include', 'stream_options', 'nomyo', 'conversation', 'prompt'];
const NESTED_PATHS: Step[][] = [
  ['input', 0], ['input', 0, 'role'], ['input', 0, 'type'], ['input', 0, 'content'], ['input', 0, 'content', 0], ['input', 0, 'content', 0, 'type'],
  ['input', 0, 'content', 0, 'text'], ['input', 0, 'content', 0, 'image_url'], ['input', 0, 'id'], ['input', 0, 'status'], ['input', 0, 'call_id'],
  ['input', 0, 'output'], ['input', 0, 'arguments'], ['input', 1], ['input', 1, 'content'], ['instructions', 0], ['instructions', 0, 'content'],
  ['tools', 0], ['tools', 0, 'type'], ['tools', 0, 'name'], ['tools', 0, 'parameters'], ['tools', 0, 'strict'], ['tools', 0, 'description'],
  ['tool_choice', 'type'], ['tool_choice', 'name'], ['tool_choice', 'mode'], ['text', 'format'], ['text', 'format', 'type'], ['text', 'format', 'name'],
  ['text', 'format', 'schema'], ['text', 'verbosity'], ['reasoning', 'effort'], ['reasoning', 'summary'], ['metadata', 'k'], ['nomyo', 'cache'],
  ['stream_options', 'include_usage'], ['include', 0],
];
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'model ', 'MODEL', '\u0000', 'input\u200b'];
const anyValue = fc.anything({ maxDepth: 3, maxKeys: 4, withBoxedValues: false, withNullPrototype: true, withSparseArray: true });
const mutation = fc.record({
  path: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...TOP_FIELDS).map((k): Step[] => [k]) },
    { weight: 3, arbitrary: fc.constantFrom(...NESTED_PATHS) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...ODD_KEYS), fc.string({ maxLength: 12 })).map((k): Step[] => [k]) },
  ),
  op: fc.constantFrom<'set' | 'delete'>('set', 'set', 'set', 'delete'),
  value: anyValue,
});

/** Valid bodies with 1-3 fields replaced by anything (fc.anything) or removed. */
export function mutatedBodies(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(validBody(seeds), fc.array(mutation, { minLength: 1, maxLength: 3 }), transport).map(([body, muts, t]) => {
    const out = muts.reduce((b, m) => mutate(b, m.path, m.op, m.value), body);
    return createRequest(`mutated: ${muts.map((m) => `${m.op} ${m.path.join('.')}`).join(', ')}`, toJson(out), t, 'any');
  });
}

// What the validator accepts per top-level field (true: may be valid, so not "wrong").
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const orNull = (p: (v: unknown) => boolean) => (v: unknown) => v === null || p(v);
const num = (min: number, max: number, int = false) => (v: unknown) => typeof v === 'number' && v >= min && v <= max && (!int || Number.isInteger(v));
const isBool = (v: unknown) => typeof v === 'boolean';
const isStr = (v: unknown) => typeof v === 'string';
export const ACCEPTS: Record<string, (v: unknown) => boolean> = {
  model: (v) => isStr(v) && (v as string).length > 0,
  input: (v) => isStr(v) || Array.isArray(v),
  instructions: orNull((v) => isStr(v) || Array.isArray(v)),
  previous_response_id: orNull((v) => isStr(v) && (v as string).length > 0),
  stream: orNull(isBool),
  store: orNull(isBool),
  background: orNull(isBool),
  parallel_tool_calls: orNull(isBool),
  tools: orNull(Array.isArray),
  tool_choice: orNull((v) => v === 'auto' || v === 'none' || v === 'required' || (isObj(v) && isStr(v.type))),
  text: orNull(isObj),
  reasoning: orNull(isObj),
  temperature: orNull(num(0, 2)),
  top_p: orNull(num(0, 1)),
  max_output_tokens: orNull(num(1, Infinity, true)),
  max_tool_calls: orNull(num(1, Infinity, true)),
  top_logprobs: orNull(num(0, 20, true)),
  metadata: orNull(isObj),
  user: orNull(isStr),
  safety_identifier: orNull(isStr),
  prompt_cache_key: orNull(isStr),
  service_tier: orNull(isStr),
  truncation: orNull((v) => v === 'auto' || v === 'disabled'),
  include: orNull(Array.isArray),
  stream_options: orNull(isObj),
  nomyo: isObj,
};

/** One documented field set to a JSON value of a type it never takes, or a required field missing: 400 naming it. */
export function wrongTypeBodies(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  const wrong = fc.constantFrom(...Object.keys(ACCEPTS)).chain((field) =>
    fc.jsonValue({ maxDepth: 2 }).filter((v) => !ACCEPTS[field]!(JSON.parse(JSON.stringify(v)))).map((value) => ({ field, value, missing: false })),
  );
  const missing = fc.constantFrom('model', 'input').map((field) => ({ field, value: undefined as unknown, missing: true }));
  return fc.tuple(validBody(seeds), fc.oneof({ weight: 5, arbitrary: wrong }, { weight: 1, arbitrary: missing }), transport).map(([body, w, t]) => {
    const out = mutate(body, [w.field], w.missing ? 'delete' : 'set', w.value);
    return createRequest(w.missing ? `missing ${w.field}` : `wrong type for ${w.field}`, toJson(out), t, '4xx', w.field);
  });
}

// ── input items ─────────────────────────────────────────────────────────────

const UNKNOWN_ITEM_TYPES = ['item_reference', 'web_search_call', 'file_search_call', 'computer_call', 'computer_call_output', 'image_generation_call', 'code_interpreter_call', 'local_shell_call', 'local_shell_call_output', 'mcp_call', 'mcp_list_tools', 'mcp_approval_request', 'custom_tool_call', 'custom_tool_call_output', 'Message', 'message ', 'function-call', '', '\u0000', 'reasoning\u200b'];
const KNOWN_ITEM_TYPES = new Set(['message', 'function_call', 'function_call_output', 'reasoning']);
const unknownItemType = fc.oneof(fc.constantFrom(...UNKNOWN_ITEM_TYPES), fc.string({ maxLength: 16 }).filter((s) => !KNOWN_ITEM_TYPES.has(s)));
const KNOWN_PART_TYPES = new Set(['input_text', 'output_text', 'text', 'refusal', 'input_image', 'input_file', 'input_audio']);
const unknownPartType = fc.oneof(fc.constantFrom('image_url', 'file', 'audio', 'input_video', 'Input_Text', 'input_text ', 'summary_text', 'reasoning_text', ''), fc.string({ maxLength: 16 }).filter((s) => !KNOWN_PART_TYPES.has(s)));

const unknownItem = fc.record({ type: unknownItemType, id: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }), content: fc.option(anyValue, { nil: undefined }) }, { requiredKeys: ['type'] });
const messageWithUnknownPart = fc.record({
  role: fc.constantFrom('user', 'system', 'developer', 'assistant'),
  content: fc.tuple(fc.array(inputText, { maxLength: 2 }), fc.record({ type: unknownPartType, text: fc.option(shortText, { nil: undefined }) }, { requiredKeys: ['type'] })).map(([ok, bad]) => [...ok, bad]),
});

/** Anything an input item might be: broken messages, calls without ids, odd roles, non-objects. */
const looseItem = fc.oneof(
  fc.record({ type: fc.constantFrom('message', undefined), role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'developer', 'tool', 'function', 'User', ''), anyValue), content: fc.oneof(shortText, fc.array(fc.oneof(inputText, inputImage, fc.record({ type: fc.constantFrom(...KNOWN_PART_TYPES), text: anyValue, image_url: anyValue, file_data: anyValue, file_url: anyValue, file_id: anyValue, input_audio: anyValue, refusal: anyValue }, { requiredKeys: ['type'] }), anyValue), { maxLength: 3 }), anyValue) }, { requiredKeys: [] }),
  fc.record({ type: fc.constant('function_call'), call_id: fc.oneof(fc.constant('call_1'), anyValue), name: fc.oneof(fc.constant('add'), anyValue), arguments: anyValue, id: anyValue }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('function_call_output'), call_id: fc.oneof(fc.constant('call_1'), anyValue), output: fc.oneof(shortText, fc.array(fc.oneof(inputText, anyValue), { maxLength: 2 }), anyValue) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('reasoning'), summary: fc.oneof(fc.array(fc.record({ type: fc.constant('summary_text'), text: anyValue })), anyValue), content: anyValue, encrypted_content: anyValue }, { requiredKeys: ['type'] }),
  unknownItem,
  anyValue,
);

/**
 * `input` lists. On the chat model, a list with an unknown item type (or a known one without its
 * required fields: these items carry at most an id and content), or a message with an unknown
 * content part type, must be refused with a 400 naming `input…`; everything else may go either way.
 */
export function inputItemBodies(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  const strict = fc.tuple(
    validBody(seeds),
    fc.array(validItem, { maxLength: 2 }),
    fc.oneof(unknownItem, messageWithUnknownPart),
    fc.array(validItem, { maxLength: 2 }),
    transport,
  ).map(([body, before, bad, after, t]) => {
    const { previous_response_id: _p, ...rest } = body;
    const out = { ...rest, model: CHAT_MODEL, input: [...before, bad, ...after] };
    return createRequest(`unknown ${'role' in bad ? 'content part' : 'item'} type on the chat path`, toJson(out), t, '4xx', 'input');
  });
  const loose = fc.tuple(validBody(seeds), fc.array(looseItem, { minLength: 1, maxLength: 4 }), fc.constantFrom('input', 'instructions'), transport).map(([body, items, where, t]) =>
    createRequest(`loose items in ${where}`, toJson({ ...body, [where]: items }), t, 'any'),
  );
  return fc.oneof(strict, loose);
}

// ── raw bodies: invalid JSON, non-objects, invalid UTF-8, deep nesting ────────

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};
const BROKEN_JSON = [
  '', ' ', '\n', '{', '}', '{"model":', '{"model": "test-model", "input": "x"', "{'model': 'test-model', 'input': 'x'}", '{model: "test-model", input: "x"}',
  '{"model": "test-model", "input": "x",}', '{"model": "test-model" "input": "x"}', '{"temperature": NaN}', '{"temperature": Infinity}', '{"temperature": -Infinity}',
  '{"x": undefined}', '{"n": 01}', '{"n": .5}', '{"n": +1}', '{"n": 1e}', '{"n": 0x10}', '{"s": "\t"}', '{"s": "\\x41"}', '{"s": "\\u12"}', '{"s": "\\uZZZZ"}',
  '{"s": "unterminated}', '// comment\n{}', '/* c */ {}', '{"a":1}{"b":2}', '{"a":1} x', '[1,]', 'nul', 'tru', 'True', 'None', '\u0000', '{"\u0000', '\\',
  '{"model": "test-model", "input": "x"}}', '{{}}', '{"a" : [}', '"\\', ')]}\'\n{}',
];
const validText = (seeds: Seeds) => validBody(seeds).map(toJson);

export function invalidJsonBodies(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  const text = fc.oneof(
    fc.constantFrom(...BROKEN_JSON),
    fc.string({ maxLength: 200 }).filter((s) => !isJson(s)),
    validText(seeds).chain((s) => fc.integer({ min: 0, max: s.length - 1 }).map((i) => s.slice(0, i))),
    fc.tuple(validText(seeds), fc.constantFrom('}', ',', ']', 'x', '{}', '\u0000', ' "')).map(([s, tail]) => s + tail),
    fc.tuple(validText(seeds), fc.nat()).map(([s, i]) => { const at = i % s.length; return s.slice(0, at) + '\u0001' + s.slice(at); }).filter((s) => !isJson(s)),
  );
  const nonObject = fc.jsonValue({ maxDepth: 2 }).filter((v) => !isObj(v)).map(toJson);
  return fc.tuple(fc.oneof({ weight: 3, arbitrary: text.map((s) => ['invalid JSON', s] as const) }, { weight: 1, arbitrary: nonObject.map((s) => ['JSON that is not an object', s] as const) }), transport)
    .map(([[what, s], t]) => createRequest(what, s, t, '4xx'));
}

const nest = (depth: number, kind: 'array' | 'object' | 'mixed'): string =>
  kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth)
    : kind === 'object' ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
      : '[{"k":'.repeat(Math.ceil(depth / 2)) + 'null' + '}]'.repeat(Math.ceil(depth / 2));
const DEEP_PLACES: Record<string, (deep: string) => string> = {
  'unknown field': (d) => `{"model":"${CHAT_MODEL}","input":"x","extra":${d}}`,
  'unknown field (native)': (d) => `{"model":"${NATIVE_MODEL}","input":"x","extra":${d}}`,
  'tools[0].parameters': (d) => `{"model":"${CHAT_MODEL}","input":"x","tools":[{"type":"function","name":"f","parameters":${d}}]}`,
  'text.format.schema': (d) => `{"model":"${CHAT_MODEL}","input":"x","text":{"format":{"type":"json_schema","name":"s","schema":${d}}}}`,
  'input[0] extra field': (d) => `{"model":"${CHAT_MODEL}","input":[{"role":"user","content":"x","extra":${d}}],"stream":true}`,
  'reasoning item': (d) => `{"model":"${CHAT_MODEL}","input":[{"type":"reasoning","summary":${d}}]}`,
  'function_call arguments': (d) => `{"model":"${CHAT_MODEL}","input":[{"type":"function_call","call_id":"c","name":"n","arguments":${d}}]}`,
  'unknown item (native)': (d) => `{"model":"${NATIVE_MODEL}","input":[{"type":"custom","x":${d}}]}`,
  'metadata value': (d) => `{"model":"${CHAT_MODEL}","input":"x","metadata":{"k":${d}}}`,
  input: (d) => `{"model":"${CHAT_MODEL}","input":${d}}`,
  'whole body': (d) => d,
};

/** Nesting from just under the limit (any answer) to 100k levels (4xx), at every place a body nests. */
export function deepBodies(): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    depth: fc.constantFrom(20, 100, 126, 129, 200, 1_000, 5_000, 10_000, 100_000),
    kind: fc.constantFrom<'array' | 'object' | 'mixed'>('array', 'object', 'mixed'),
    place: fc.constantFrom(...Object.keys(DEEP_PLACES)),
    t: transport,
  }).map(({ depth, kind, place, t }) => {
    // Over 128 levels anywhere is refused; under it only the whole-body and input cases must fail.
    const mustFail = depth > 126 || place === 'whole body' || place === 'input' || place === 'metadata value';
    return createRequest(`${depth}-level ${kind} nesting in ${place}`, DEEP_PLACES[place]!(nest(depth, kind)), t, mustFail ? '4xx' : 'any');
  });
}

const INVALID_UTF8: number[][] = [
  [0xff], [0xfe], [0x80], [0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf0, 0x80, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3], [0xe6, 0x97], [0xf0, 0x9f, 0x98], [0xc3, 0x28], [0xe2, 0x28, 0xa1],
];
const invalidSequence = fc.oneof(fc.constantFrom(...INVALID_UTF8), fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 6 }).filter((bytes) => !isUtf8(Uint8Array.from(bytes))));
const utf8 = new TextDecoder('utf-8', { fatal: true });
function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Bodies that are not UTF-8. JSON text must be UTF-8 (RFC 8259 §8.1), so even a body that would
 * be valid JSON once the bad bytes are replaced with U+FFFD is refused, as OpenAI does.
 */
export function invalidUtf8Bodies(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  const insideString = fc.tuple(validBody(seeds), invalidSequence, fc.constantFrom('input', 'instructions', 'user', 'metadata')).map(([body, seq, field]) => {
    const marker = 'INVALID_BYTES_HERE';
    const value = field === 'metadata' ? { k: marker } : marker;
    const text = toJson({ ...body, [field]: value });
    const [head, tail] = text.split(marker) as [string, string];
    return { what: `invalid UTF-8 inside ${field}`, bytes: Buffer.concat([Buffer.from(head), Uint8Array.from(seq), Buffer.from(tail)]) };
  }).filter(({ bytes }) => !isUtf8(bytes));
  const anywhere = fc.tuple(validText(seeds), invalidSequence, fc.nat()).map(([text, seq, at]) => {
    const bytes = Buffer.from(text);
    const i = at % (bytes.length + 1);
    return { what: 'invalid UTF-8 at a random byte', bytes: Buffer.concat([bytes.subarray(0, i), Uint8Array.from(seq), bytes.subarray(i)]) };
  }).filter(({ bytes }) => !isUtf8(bytes));
  const random = fc.uint8Array({ minLength: 1, maxLength: 300 }).filter((b) => !isUtf8(b)).map((bytes) => ({ what: 'random bytes', bytes }));
  const latin1 = fc.tuple(validBody(seeds), fc.string({ unit: fc.constantFrom('é', 'ü', 'ß', 'ñ', '£'), minLength: 1, maxLength: 8 })).map(([body, s]) => ({
    what: 'latin-1 encoded JSON', bytes: Buffer.from(toJson({ ...body, model: CHAT_MODEL, input: s }), 'latin1'),
  })).filter(({ bytes }) => !isUtf8(bytes));
  return fc.tuple(fc.oneof({ weight: 3, arbitrary: insideString }, { weight: 2, arbitrary: anywhere }, { weight: 1, arbitrary: random }, { weight: 1, arbitrary: latin1 }), transport)
    .map(([{ what, bytes }, t]) => createRequest(what, bytes, t, '4xx'));
}

// ── size ────────────────────────────────────────────────────────────────────

const HUGE_PLACES: Record<string, (s: string) => Body> = {
  model: (s) => ({ model: s, input: 'x' }),
  input: (s) => ({ model: CHAT_MODEL, input: s }),
  'input (native)': (s) => ({ model: NATIVE_MODEL, input: s, store: false }),
  instructions: (s) => ({ model: CHAT_MODEL, input: 'x', instructions: s }),
  user: (s) => ({ model: CHAT_MODEL, input: 'x', user: s, stream: true }),
  'metadata value': (s) => ({ model: CHAT_MODEL, input: 'x', metadata: { k: s } }),
  'metadata key': (s) => ({ model: CHAT_MODEL, input: 'x', metadata: { [s]: 'v' } }),
  'tools[0].name': (s) => ({ model: CHAT_MODEL, input: 'x', tools: [{ type: 'function', name: s }] }),
  'input[0].content[0].text': (s) => ({ model: CHAT_MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: s }] }] }),
  'input[0].id': (s) => ({ model: CHAT_MODEL, input: [{ role: 'user', content: 'x', id: s }] }),
  'input_image.image_url': (s) => ({ model: CHAT_MODEL, input: [{ role: 'user', content: [{ type: 'input_image', image_url: `data:image/png;base64,${s}` }] }] }),
  previous_response_id: (s) => ({ model: CHAT_MODEL, input: 'x', previous_response_id: s }),
  'previous_response_id (resp_ prefix)': (s) => ({ model: CHAT_MODEL, input: 'x', previous_response_id: `resp_${s}` }),
  'unknown field': (s) => ({ model: CHAT_MODEL, input: 'x', [`extra_${s.slice(0, 8)}`]: s }),
  'text.format.name': (s) => ({ model: CHAT_MODEL, input: 'x', text: { format: { type: 'json_schema', name: s } } }),
  // Many small things instead of one big one.
  'input: 20,000 items': (s) => ({ model: CHAT_MODEL, input: Array.from({ length: 20_000 }, (_, i) => ({ role: 'user', content: s.slice(i, i + 8) })) }),
  'input[0].content: 50,000 parts': (s) => ({ model: CHAT_MODEL, input: [{ role: 'user', content: Array.from({ length: 50_000 }, (_, i) => ({ type: 'input_text', text: s.slice(i, i + 4) })) }] }),
  'metadata: 10,000 keys': (s) => ({ model: CHAT_MODEL, input: 'x', metadata: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, s.slice(i, i + 32)])) }),
  'tools: 5,000 functions': (s) => ({ model: NATIVE_MODEL, input: 'x', tools: Array.from({ length: 5_000 }, (_, i) => ({ type: 'function', name: `f${i}`, description: s.slice(i, i + 64) })) }),
};

/** 1 MB strings (ASCII, 2-, 3- and 4-byte UTF-8) in every kind of field, and long lists. Any answer but a 5xx. */
export function hugeStringBodies(): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    place: fc.constantFrom(...Object.keys(HUGE_PLACES)),
    alphabet: fc.constantFrom('abcdefghijklmnopqrstuvwxyz0123456789', 'ABCDEFabcdef0123456789+/', 'éüßñ', '日本語中文', '😀🚀'),
    seed: fc.integer({ min: 1 }),
    t: transport,
  }).map(({ place, alphabet, seed, t }) => {
    const s = bigString(alphabet.length > 5 ? 1 << 20 : (1 << 20) / 2, alphabet, seed);
    return createRequest(`1 MB string in ${place}`, toJson(HUGE_PLACES[place]!(s)), t, 'any');
  });
}

/** Bodies of exactly the limit (any answer), one byte over it and 8 MB (413), on several routes. */
export function limitBodies(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    // A body of exactly the limit is the costly one (read, sent upstream, stored).
    size: fc.constantFrom(LIMIT + 1, LIMIT + 1, 8 * 1024 * 1024, LIMIT),
    route: fc.constantFrom<[string, string, string]>(
      ['POST', '/v1/responses', 'POST /v1/responses'],
      ['POST', `/v1/responses/${seeds.ids[0]}/cancel`, 'POST /v1/responses/{id}/cancel'],
      ['GET', `/v1/responses/${seeds.ids[0]}`, 'GET /v1/responses/{id}'],
      ['PUT', '/v1/nowhere', 'other methods and paths'],
    ),
    chunked: fc.boolean(),
    seed: fc.integer({ min: 1 }),
  }).map(({ size, route: [method, target, route], chunked, seed }) => {
    const over = size > LIMIT;
    const head = `{"model":"${CHAT_MODEL}","input":"`;
    // Over the limit the content is never read: a cheap fill will do.
    const text = over ? Buffer.alloc(size - head.length - 2, 'a') : Buffer.from(bigString(size - head.length - 2, 'abcdefghijklmnopqrstuvwxyz ', seed));
    const body = Buffer.concat([Buffer.from(head), text, Buffer.from('"}')]);
    const what = size === LIMIT ? 'body of exactly the limit' : size === LIMIT + 1 ? 'body of the limit + 1 byte' : 'body of 8 MB';
    return fuzzRequest({ route, what, method, target, headers: [...AUTH, ...JSON_CT], body, chunked, expect: over ? 413 : 'any' });
  });
}

// ── ids in paths ────────────────────────────────────────────────────────────

const ID_ROUTES: Array<[method: string, sub: string]> = [
  ['GET', ''], ['DELETE', ''], ['GET', '/input_items'], ['POST', '/cancel'], ['GET', ''], ['GET', '/input_items'], ['POST', '/cancel'], ['DELETE', ''],
  ['POST', ''], ['PUT', ''], ['PATCH', ''], ['GET', '/cancel'], ['DELETE', '/cancel'], ['POST', '/input_items'], ['GET', '/input_items/'], ['HEAD', ''], ['OPTIONS', '/cancel'],
];
const routeLabel = (method: string, sub: string): string => {
  const known = new Set(['GET ', 'DELETE ', 'GET /input_items', 'POST /cancel']);
  return known.has(`${method} ${sub}`) ? `${method} /v1/responses/{id}${sub}` : 'other methods on /v1/responses/{id}…';
};
const PATHY_IDS = [
  '..', '.', '...', '../', '../../', '../../health', '../../../etc/passwd', '..%2F..%2Fhealth', '%2e%2e', '%2E%2E%2F', '.%2e', 'resp_%2F..%2F', 'resp_abc%2Finput_items',
  '%2F', '%2f%2f', '%00', 'resp_%00', 'resp_abc%00.json', '%0D%0A', '%0d%0aSet-Cookie:%20x', '%20', '%09', '%25', '%2525', '%3F', '%23', '%3B', '%5C', 'resp_abc;x=1', 'resp_abc,def',
  'resp_abc/', 'resp_abc//', '/', '//', 'resp_a/b', 'resp_a/b/c', 'a\\b', '\\..\\..\\', '*', '~', '$', '@', '!', "'", '(', ')', 'resp_', 'RESP_ABC', 'resp-abc', 'resp_abc.', 'resp_abc~',
  '%E2%80%AE', '%EF%BB%BF', '%F0%9F%98%80', '%C3%A9', 'resp_%E6%97%A5%E6%9C%AC', '%7B%7D', '%5B%5D', 'null', 'undefined', 'NaN', '0', '-1', 'true', '%22%22',
];

/** An id as it appears in the path: encoded text, literal path characters, raw UTF-8, very long. */
function pathId(seeds: Seeds): fc.Arbitrary<{ what: string; seg: string | Uint8Array }> {
  const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 40 });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...seeds.ids).map((id) => ({ what: 'an existing id', seg: id })) },
    { weight: 1, arbitrary: hex.map((h) => ({ what: 'an unknown resp_ id', seg: `resp_${h}` })) },
    { weight: 4, arbitrary: fc.constantFrom(...PATHY_IDS).map((seg) => ({ what: 'path characters', seg })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...seeds.ids, 'resp_'), fc.constantFrom(...PATHY_IDS)).map(([id, tail]) => ({ what: 'an id with path characters appended', seg: id + tail })) },
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => ({ what: 'unicode, encoded', seg: encodeSegment(s) })) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => ({ what: 'any code points, encoded', seg: encodeSegment(s) })) },
    // Control characters would end the request line early; the rest goes out as raw bytes.
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).map((s) => ({ what: 'raw UTF-8 bytes in the path', seg: Buffer.from(`resp_${s.replace(/[\u0000-\u0020\u007f]/g, 'x')}`) })) },
    { weight: 1, arbitrary: fc.constantFrom(129, 1_000, 8_000, 15_000, 20_000, 100_000).map((n) => ({ what: `a ${n}-character id`, seg: `resp_${'a'.repeat(n)}` })) },
  );
}

const joinTarget = (prefix: string, seg: string | Uint8Array, suffix: string): string | Uint8Array =>
  typeof seg === 'string' ? prefix + seg + suffix : Buffer.concat([Buffer.from(prefix), seg, Buffer.from(suffix)]);

const RESPONSE_ROUTE = /^\/v1\/responses\/([^/]+)(\/input_items|\/cancel)?\/?$/;

/**
 * 'any' when the server will route the target to GET /health or to a stored response (the route
 * table of functions/api/routes.ts, on the path as the server resolves it), else '4xx'.
 */
export function expectFor(method: string, target: string | Uint8Array, seeds: Seeds): Expect {
  const path = routedPath(target);
  if (path === null) return '4xx';
  if (path === '/health' && method === 'GET') return 'any';
  const m = RESPONSE_ROUTE.exec(path);
  if (!m) return '4xx';
  try {
    const id = decodeURIComponent(m[1]!);
    return seeds.ids.includes(id) || seeds.deletable.includes(id) ? 'any' : '4xx';
  } catch {
    return '4xx';
  }
}

/** DELETE aims at its own pool of responses, so the ones other requests read stay there. */
function spareSeeds(method: string, target: string | Uint8Array, seeds: Seeds, deletable: string | null): string | Uint8Array {
  if (method !== 'DELETE' || typeof target !== 'string') return target;
  return seeds.ids.reduce((t, id) => t.split(id).join(deletable ?? `resp_${'0'.repeat(32)}`), target);
}

/** Every id route and the wrong methods on them, with ids full of path characters. */
export function idRequests(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(pathId(seeds), fc.constantFrom(...ID_ROUTES), fc.option(fc.constantFrom(...seeds.deletable), { freq: 3, nil: null })).map(([id, [method, sub], deletable]) => {
    const target = spareSeeds(method, joinTarget('/v1/responses/', id.seg, sub), seeds, deletable);
    return fuzzRequest({
      route: routeLabel(method, sub), what: id.what, method, target, headers: [...AUTH], expect: expectFor(method, target, seeds),
      ...(method === 'POST' ? { body: '', headers: [...AUTH, ...JSON_CT] } : {}),
    });
  });
}

/** Ids whose percent-encoding is malformed or decodes to bytes that are not UTF-8. */
export function malformedPercentIds(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  const seg = fc.oneof(
    fc.constantFrom('%', '%%', '%Z', '%ZZ', '%f', '%fg', '%FF', '%ff%fe', '%C0%AF', '%E0%A4%A', '%ED%A0%80', '%F4%90%80%80', '%80', 'resp_%', 'resp_%E2%82', 'resp_abc%2', '%%32%65'),
    fc.uint8Array({ minLength: 1, maxLength: 12 }).filter((b) => !isUtf8(b)).map(percentBytes),
    fc.tuple(fc.constantFrom(...seeds.ids), fc.constantFrom('%', '%G0', '%FF')).map(([id, bad]) => id + bad),
  );
  return fc.tuple(seg, fc.constantFrom(...ID_ROUTES)).map(([s, [method, sub]]) =>
    fuzzRequest({ route: routeLabel(method, sub), what: 'malformed percent-encoding in the id', method, target: `/v1/responses/${s}${sub}`, headers: [...AUTH], expect: '4xx' }),
  );
}

// ── query parameters ────────────────────────────────────────────────────────

const QUERY_VALUES = ['', ' ', 'true', 'false', '1', '0', 'yes', 'TRUE', 'null', 'undefined', '-1', '-2', '1.5', '1e2', '0x10', 'NaN', 'Infinity', '-0', '00', '+1', '9'.repeat(400), '[]', '{}', 'asc', 'desc', 'ASC', '%00', '%zz', '%', '\u00e9'];
const queryValue = (seeds: Seeds) => fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...QUERY_VALUES).map(encodeSegment) },
  { weight: 2, arbitrary: fc.integer({ min: -5, max: 200 }).map(String) },
  { weight: 1, arbitrary: fc.double().map(String).map(encodeSegment) },
  { weight: 2, arbitrary: fc.constantFrom(...seeds.itemIds, ...seeds.ids) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeSegment) },
  { weight: 1, arbitrary: fc.constantFrom('%zz', '%', '%E0%A4%A', '%FF', 'a%00b', 'a+b', 'a&b=c', '=') },
);
const PARAMS = ['stream', 'starting_after', 'include_obfuscation', 'limit', 'order', 'after', 'before', 'include', 'include[]', '__proto__', 'constructor', 'toString', '', 'LIMIT'];

/** Wrong values for stream, starting_after, limit, order, after, before, repeated and odd names. */
export function queryRequests(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  const param = fc.tuple(fc.constantFrom(...PARAMS), queryValue(seeds), fc.boolean()).map(([k, v, bare]) => (bare && v === '' ? k : `${k}=${v}`));
  return fc.tuple(
    fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...seeds.ids) }, { weight: 1, arbitrary: fc.constant(`resp_${'f'.repeat(32)}`) }),
    fc.constantFrom<[string, string]>(['GET', ''], ['GET', ''], ['GET', '/input_items'], ['GET', '/input_items'], ['POST', '/cancel'], ['DELETE', '']),
    fc.array(param, { minLength: 1, maxLength: 5 }),
    fc.constantFrom('?', '?&', '??', '?;'),
  ).map(([id, [method, sub], params, lead]) => {
    const real = seeds.ids.includes(id) && method !== 'DELETE';
    const target = `/v1/responses/${method === 'DELETE' ? `resp_${'e'.repeat(32)}` : id}${sub}${lead}${params.join('&')}`;
    return fuzzRequest({ route: routeLabel(method, sub), what: 'query parameters', method, target, headers: [...AUTH], expect: real ? 'any' : '4xx' });
  });
}

// ── methods, paths, headers ─────────────────────────────────────────────────

/** Methods node:http parses; any other token is refused by the parser (400). */
const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'SEARCH', 'PURGE', 'LINK', 'MKCOL', 'REPORT']);
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'SEARCH', 'PURGE', 'LINK', 'MKCOL', 'REPORT', 'get', 'Post', 'FOO', 'BREW'];
const PATHS = [
  '/', '', '*', '/v1', '/v1/', '/v1/responses', '/v1/responses/', '/v1/responses//', '/v1/responsesX', '/v1/Responses', '/V1/responses', '/v2/responses', '/v1/chat/completions',
  '/v1/responses/input_items', '/v1/responses/cancel', '/v1/responses//input_items', '/v1/responses/resp_abc/unknown', '/v1/responses/resp_abc/input_items/extra',
  '/v1/responses/resp_abc/cancel/now', '//v1/responses', '/v1/./responses', '/v1/responses/../responses', '/%76%31/responses', '/v1%2Fresponses', '/health', '/health/', '/HEALTH',
  '/health?x=1', '/health/../v1/responses', '/v1/responses?stream=true', '/v1/responses#frag', '/v1/responses/resp_abc#x', 'http://localhost/v1/responses', 'http://[::1]/health', '//evil.example/health',
  '/favicon.ico', '/.env', '/admin', '/v1/responses/%2e%2e/%2e%2e/health',
];
const HEADER_SETS: Array<Array<[string, string]>> = [
  [], [], [], [], [],
  [['accept', 'text/event-stream']], [['accept-encoding', 'gzip, br']], [['content-encoding', 'gzip']], [['x-forwarded-for', '1.2.3.4, ::1']], [['x-amzn-trace-id', 'Root=1-abc']],
  [['upgrade', 'websocket']], [['expect', '100-continue']], [['expect', 'coffee']], [['content-type', 'multipart/form-data; boundary=x']], [['range', 'bytes=0-1']],
  [['cookie', 'a=b; __proto__=c']], [['__proto__', 'x']], [['constructor', 'x']], [['host', 'evil.example']], [['if-none-match', '*']], [['x-long', 'x'.repeat(8000)]],
];
const AUTH_SETS: Array<[what: string, headers: Array<[string, string]>, bad: boolean]> = [
  ['valid key', AUTH, false], ['valid key', AUTH, false], ['valid key', AUTH, false], ['valid key', AUTH, false], ['valid key', AUTH, false], ['valid key', AUTH, false],
  ['no key', [], true], ['wrong key', [['authorization', 'Bearer nope']], true], ['lower-case scheme (RFC 9110: case-insensitive)', [['authorization', `bearer ${KEY}`]], false],
  ['Basic auth', [['authorization', 'Basic a2V5LWZ1eno6']], true], ['empty Bearer', [['authorization', 'Bearer ']], true], ['key with suffix', [['authorization', `Bearer ${KEY}x`]], true],
  ['8 KB key', [['authorization', `Bearer ${'k'.repeat(8000)}`]], true], ['two keys', [['authorization', `Bearer ${KEY}, Bearer nope`]], true],
];

/** Known and unknown methods on known and unknown paths, with odd headers and keys. */
export function methodPathRequests(seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(
    fc.constantFrom(...METHODS),
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...PATHS) }, { weight: 1, arbitrary: fc.webPath({ size: 'small' }) }, { weight: 1, arbitrary: fc.constantFrom(...seeds.ids).map((id) => `/v1/responses/${id}`) }),
    fc.constantFrom(...HEADER_SETS),
    fc.constantFrom(...AUTH_SETS),
    fc.option(fc.oneof(validText(seeds), fc.constantFrom('{}', 'x', '')), { nil: undefined }),
    fc.option(fc.constantFrom(...seeds.deletable), { nil: null }),
  ).map(([method, rawPath, extra, [authWhat, auth, badAuth], body, deletable]) => {
    const path = spareSeeds(method, rawPath, seeds, deletable) as string;
    const routed = routedPath(path);
    const health = routed === '/health' && method === 'GET';
    let expect: Expect;
    if (!HTTP_METHODS.has(method) || method === 'CONNECT') expect = '4xx';
    else if (extra.some(([k, v]) => k === 'expect' && v !== '100-continue')) expect = 417;
    else if (health) expect = 'any';
    else if (badAuth && routed !== null) expect = 401;
    else if (method === 'POST' && (routed === '/v1/responses' || routed === '/v1/responses/')) expect = 'any';
    else expect = expectFor(method, path, seeds);
    const headers = [...auth, ...extra, ...(body !== undefined ? JSON_CT : [])];
    // Over node:http's 16 KB of request line and headers the answer is 431, whatever else.
    if (headers.reduce((n, [k, v]) => n + k.length + v.length + 4, path.length) > 15_000) expect = '4xx';
    return fuzzRequest({ route: health ? 'GET /health' : 'other methods and paths', what: `${method} with ${authWhat}${extra.length ? ` and ${extra[0]![0]}` : ''}`, method, target: path || '/', headers, body, expect });
  });
}

/**
 * Messages that are not valid HTTP/1.1, all complete: nothing a parser may still wait on (a lone
 * CRLF, say, is allowed before a request line, so the server rightly waits for the rest).
 */
export function malformedHttp(): fc.Arbitrary<FuzzRequest> {
  const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
  const fixed = fc.constantFrom(
    crlf(['GET /health HTTP/1.1']),
    crlf(['GET /v1/responses/resp_abc HTTP/1.1', `Authorization: Bearer ${KEY}`]),
    crlf(['GET /health HTTP/9.9', 'Host: x']),
    crlf(['GET /health HTTP/1.1 extra', 'Host: x']),
    crlf(['GET  /health HTTP/1.1', 'Host: x']),
    crlf(['GET /health', 'Host: x']),
    crlf(['/health HTTP/1.1', 'Host: x']),
    crlf(['GET /he alth HTTP/1.1', 'Host: x']),
    crlf(['GET /health HTTP/1.1', 'Host: x', 'X: a', ' folded']),
    crlf(['GET /health HTTP/1.1', 'Host: x', 'No colon here']),
    crlf(['GET /health HTTP/1.1', 'Host: x', ': empty name']),
    crlf(['GET /health HTTP/1.1', 'Host: x', 'X\u0000: y']),
    crlf(['GET /health HTTP/1.1', 'Host: x', 'X: y\u0000z']),
    crlf(['GET /health HTTP/1.1', 'Host: x', 'X : y']),
    'GET /health HTTP/1.1\nHost: x\n\n',
    'GET /health HTTP/1.1\rHost: x\r\r',
    crlf(['POST /v1/responses HTTP/1.1', 'Host: x', 'Content-Length: -1']),
    crlf(['POST /v1/responses HTTP/1.1', 'Host: x', 'Content-Length: abc']),
    crlf(['POST /v1/responses HTTP/1.1', 'Host: x', 'Content-Length: 1', 'Content-Length: 2']) + 'ab',
    crlf(['POST /v1/responses HTTP/1.1', 'Host: x', 'Content-Length: 2', 'Transfer-Encoding: chunked']) + '0\r\n\r\n',
    crlf(['POST /v1/responses HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked']) + 'zz\r\n\r\n',
    crlf(['POST /v1/responses HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked']) + 'ffffffffffffffffffff\r\n\r\n',
    crlf(['POST /v1/responses HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked']) + '2\r\n{}XX0\r\n\r\n',
    crlf(['POST /v1/responses HTTP/1.1', 'Host: x', 'Transfer-Encoding: gzip']),
    crlf(['POST /v1/responses HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked, identity']) + '0\r\n\r\n',
    crlf(['GET /health HTTP/1.1', 'Host: x', `X-Big: ${'b'.repeat(20_000)}`]),
    crlf(['GET /health HTTP/1.1', 'Host: x', ...Array.from({ length: 3000 }, (_, i) => `X-${i}: ${i}`)]),
    crlf([`GET /${'p'.repeat(20_000)} HTTP/1.1`, 'Host: x']),
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    crlf(['GET /health HTTP/1.0']),
    crlf(['get /health HTTP/1.1', 'Host: x']),
  );
  const garbage = fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 60 }), fc.constantFrom('', ' / HTTP/1.1', ' HTTP/1.1'))
    .filter(([s, tail]) => (s + tail).trim() !== '') // blank lines before a request line are allowed: the server waits
    .map(([s, tail]) => `${s.replace(/^[A-Z]/, '~')}${tail}\r\n\r\n`);
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 120 }).map((b) => Buffer.concat([Buffer.from([0x01]), b, Buffer.from('\r\n\r\n')]));
  return fc.oneof({ weight: 3, arbitrary: fixed }, { weight: 1, arbitrary: garbage }, { weight: 1, arbitrary: bytes }).map((raw) => {
    const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('latin1');
    const [line] = text.split(/\r?\n/);
    const [method = '', target = ''] = (line ?? '').split(' ');
    return fuzzRequest({ route: 'malformed HTTP', what: 'malformed HTTP', method: method.slice(0, 10), target: target.slice(0, 50), headers: [], raw, expect: 'any' });
  });
}
