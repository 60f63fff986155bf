// Conformance checks for everything the gateway sends: Response objects and event streams,
// written from the OpenAI API reference (the openai SDK v7 types) and the Open Responses rules:
// required and nullable fields, item and part shapes, event order (one response.created first,
// items added before their deltas and done after, content parts likewise), gap-free sequence
// numbers, exactly one terminal event and nothing after it.
//
// The harness runs these on every JSON Response and SSE body a test reads, and `conformingFetch`
// runs them on what the SDK clients read; violations are collected and fail the test (see
// test/helpers/setup.ts), so no test can pass on a malformed stream.

export const violations: string[] = [];

const STATUSES = ['queued', 'in_progress', 'completed', 'failed', 'incomplete', 'cancelled'];
const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed', 'error']);
const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

function check(ok: unknown, where: string, what: string, problems: string[]): void {
  if (!ok) problems.push(`${where}: ${what}`);
}

const nullableOf = (v: unknown, t: string) => v === null || typeof v === t;

/** Every field of the Open Responses ResponseResource (all required; some nullable). */
const RESPONSE_FIELDS = [
  'id', 'object', 'created_at', 'completed_at', 'status', 'incomplete_details', 'model', 'previous_response_id', 'instructions',
  'output', 'error', 'tools', 'tool_choice', 'truncation', 'parallel_tool_calls', 'text', 'top_p', 'presence_penalty',
  'frequency_penalty', 'top_logprobs', 'temperature', 'reasoning', 'usage', 'max_output_tokens', 'max_tool_calls', 'store',
  'background', 'service_tier', 'metadata', 'safety_identifier', 'prompt_cache_key',
];

/** The Open Responses rules for the fields the OpenAI reference leaves loose. */
function openResponsesProblems(r: any, where: string, p: string[]): void {
  for (const key of RESPONSE_FIELDS) check(key in r, where, `missing ${key} (Open Responses requires it; nullable ones as null)`, p);
  for (const key of ['top_p', 'presence_penalty', 'frequency_penalty', 'temperature']) check(typeof r[key] === 'number', where, `${key} must be a number`, p);
  check(Number.isInteger(r.top_logprobs), where, 'top_logprobs must be an integer', p);
  check(r.truncation === 'auto' || r.truncation === 'disabled', where, `truncation ${r.truncation}`, p);
  check(typeof r.service_tier === 'string', where, 'service_tier must be a string', p);
  check(r.tool_choice != null, where, 'tool_choice must not be null', p);
  check(Number.isInteger(r.completed_at) || r.completed_at === null, where, 'completed_at', p);
  check(isObj(r.text) && isObj(r.text.format) && typeof r.text.format.type === 'string', where, 'text.format', p);
  check(r.reasoning === null || (isObj(r.reasoning) && 'effort' in r.reasoning && 'summary' in r.reasoning), where, 'reasoning has effort and summary', p);
  for (const key of ['safety_identifier', 'prompt_cache_key', 'instructions', 'previous_response_id']) {
    check(r[key] === null || typeof r[key] === 'string' || (key === 'instructions' && Array.isArray(r[key])), where, `${key} must be a string or null`, p);
  }
  for (const [i, t] of (Array.isArray(r.tools) ? r.tools : []).entries()) {
    if (t?.type !== 'function') continue;
    const at = `${where}.tools[${i}]`;
    check(typeof t.name === 'string', at, 'name', p);
    check('description' in t && nullableOf(t.description, 'string'), at, 'description (string or null)', p);
    check('parameters' in t && (t.parameters === null || isObj(t.parameters)), at, 'parameters (object or null)', p);
    check('strict' in t && nullableOf(t.strict, 'boolean'), at, 'strict (boolean or null)', p);
  }
}

/** Fields each item event needs besides type and sequence_number (Open Responses, and the openai SDK's types). */
const EVENT_FIELDS: Record<string, string[]> = {
  'response.output_item.added': ['output_index', 'item'],
  'response.output_item.done': ['output_index', 'item'],
  'response.content_part.added': ['item_id', 'output_index', 'content_index', 'part'],
  'response.content_part.done': ['item_id', 'output_index', 'content_index', 'part'],
  'response.output_text.delta': ['item_id', 'output_index', 'content_index', 'delta'],
  'response.output_text.done': ['item_id', 'output_index', 'content_index', 'text'],
  'response.refusal.delta': ['item_id', 'output_index', 'content_index', 'delta'],
  'response.refusal.done': ['item_id', 'output_index', 'content_index', 'refusal'],
  'response.reasoning_text.delta': ['item_id', 'output_index', 'content_index', 'delta'],
  'response.reasoning_text.done': ['item_id', 'output_index', 'content_index', 'text'],
  'response.reasoning_summary_part.added': ['item_id', 'output_index', 'summary_index', 'part'],
  'response.reasoning_summary_part.done': ['item_id', 'output_index', 'summary_index', 'part'],
  'response.reasoning_summary_text.delta': ['item_id', 'output_index', 'summary_index', 'delta'],
  'response.reasoning_summary_text.done': ['item_id', 'output_index', 'summary_index', 'text'],
  'response.function_call_arguments.delta': ['item_id', 'output_index', 'delta'],
  'response.function_call_arguments.done': ['item_id', 'output_index', 'arguments'],
  'response.custom_tool_call_input.delta': ['item_id', 'output_index', 'delta'],
  'response.custom_tool_call_input.done': ['item_id', 'output_index', 'input'],
};

export function responseProblems(r: any, where = 'response'): string[] {
  const p: string[] = [];
  if (!isObj(r)) return [`${where}: not an object`];
  check(typeof r.id === 'string' && /^resp_[0-9a-zA-Z]{24,}$/.test(r.id), where, `id ${r.id}`, p);
  check(r.object === 'response', where, 'object must be "response"', p);
  check(Number.isInteger(r.created_at), where, 'created_at', p);
  check(STATUSES.includes(r.status), where, `status ${r.status}`, p);
  check(typeof r.model === 'string' && r.model.length > 0, where, 'model', p);
  check(typeof r.background === 'boolean', where, 'background', p);
  check(typeof r.parallel_tool_calls === 'boolean', where, 'parallel_tool_calls', p);
  check(typeof r.store === 'boolean', where, 'store', p);
  check(Array.isArray(r.output), where, 'output must be an array', p);
  check(Array.isArray(r.tools), where, 'tools must be an array', p);
  check(isObj(r.text), where, 'text must be an object', p);
  check(isObj(r.metadata), where, 'metadata must be an object', p);
  check(isObj(r.reasoning), where, 'reasoning must be an object', p);
  for (const key of ['error', 'incomplete_details', 'instructions', 'max_output_tokens', 'previous_response_id', 'temperature', 'top_p', 'user', 'usage', 'truncation', 'tool_choice']) {
    check(key in r, where, `missing ${key} (nullable fields are present as null)`, p);
  }
  check(r.error === null || (isObj(r.error) && typeof r.error.code === 'string' && typeof r.error.message === 'string'), where, 'error shape', p);
  check(r.status !== 'failed' || isObj(r.error), where, 'a failed response carries an error', p);
  check(r.status === 'failed' || r.status === 'cancelled' || r.error === null, where, 'error only on failed responses', p);
  check(r.incomplete_details === null || (isObj(r.incomplete_details) && typeof r.incomplete_details.reason === 'string'), where, 'incomplete_details', p);
  check(r.status !== 'incomplete' || isObj(r.incomplete_details), where, 'an incomplete response says why', p);
  check(nullableOf(r.previous_response_id, 'string'), where, 'previous_response_id', p);
  openResponsesProblems(r, where, p);
  if (r.usage !== null && r.usage !== undefined) {
    const u = r.usage;
    check(Number.isInteger(u.input_tokens) && Number.isInteger(u.output_tokens) && Number.isInteger(u.total_tokens), where, 'usage token counts', p);
    check(isObj(u.input_tokens_details) && Number.isInteger(u.input_tokens_details.cached_tokens), where, 'usage.input_tokens_details', p);
    check(isObj(u.output_tokens_details) && Number.isInteger(u.output_tokens_details.reasoning_tokens), where, 'usage.output_tokens_details', p);
  }
  if (Array.isArray(r.output)) r.output.forEach((item: unknown, i: number) => p.push(...itemProblems(item, `${where}.output[${i}]`, r.status)));
  return p;
}

export function itemProblems(item: any, where: string, responseStatus?: string): string[] {
  const p: string[] = [];
  if (!isObj(item)) return [`${where}: not an object`];
  check(typeof item.id === 'string' && item.id.length > 0, where, 'id', p);
  switch (item.type) {
    case 'message':
      check(/^msg_/.test(item.id), where, `message id ${item.id}`, p);
      check(item.role === 'assistant', where, 'role', p);
      check(['in_progress', 'completed', 'incomplete'].includes(item.status), where, `status ${item.status}`, p);
      check(Array.isArray(item.content), where, 'content array', p);
      for (const [ci, part] of (item.content ?? []).entries()) p.push(...partProblems(part, `${where}.content[${ci}]`));
      break;
    case 'function_call':
      check(/^fc_/.test(item.id), where, `function_call id ${item.id}`, p);
      check(typeof item.call_id === 'string' && item.call_id.length > 0, where, 'call_id', p);
      check(typeof item.name === 'string', where, 'name', p);
      check(typeof item.arguments === 'string', where, 'arguments must be a string', p);
      check(['in_progress', 'completed', 'incomplete'].includes(item.status), where, `status ${item.status}`, p);
      break;
    case 'custom_tool_call':
      check(/^ctc_/.test(item.id), where, `custom_tool_call id ${item.id}`, p);
      check(typeof item.call_id === 'string' && item.call_id.length > 0, where, 'call_id', p);
      check(typeof item.name === 'string', where, 'name', p);
      check(typeof item.input === 'string', where, 'input must be a string', p);
      check(['in_progress', 'completed', 'incomplete'].includes(item.status), where, `status ${item.status}`, p);
      break;
    case 'reasoning':
      check(/^rs_/.test(item.id), where, `reasoning id ${item.id}`, p);
      check(Array.isArray(item.summary), where, 'summary array', p);
      break;
    default:
      check(typeof item.type === 'string', where, 'type', p);
  }
  if (responseStatus === 'completed' && 'status' in item) check(item.status === 'completed', where, 'items of a completed response are completed', p);
  return p;
}

function partProblems(part: any, where: string): string[] {
  const p: string[] = [];
  if (part?.type === 'output_text') {
    check(typeof part.text === 'string', where, 'text', p);
    check(Array.isArray(part.annotations), where, 'annotations: []', p);
    check(Array.isArray(part.logprobs), where, 'logprobs: []', p);
  } else if (part?.type === 'refusal') {
    check(typeof part.refusal === 'string', where, 'refusal', p);
  } else {
    check(typeof part?.type === 'string', where, 'part type', p);
  }
  return p;
}

export interface StreamOptions {
  /** The stream was resumed after this sequence number (no response.created expected). */
  startingAfter?: number;
}

/** Problems of a whole event stream as a client read it, from its first event to its close. */
export function streamProblems(events: any[], opts: StreamOptions = {}): string[] {
  const p: string[] = [];
  if (events.length === 0) return ['stream: no events'];
  const resumed = opts.startingAfter !== undefined && opts.startingAfter >= 0;
  const first = resumed ? opts.startingAfter! + 1 : 0;
  events.forEach((e, i) => {
    check(isObj(e) && typeof e.type === 'string', `event[${i}]`, 'type', p);
    check(e?.sequence_number === first + i, `event[${i}] ${e?.type}`, `sequence_number ${e?.sequence_number}, expected ${first + i} (gap-free)`, p);
  });
  if (!resumed) check(events[0].type === 'response.created', 'stream', `first event is ${events[0].type}, not response.created`, p);
  check(events.filter((e) => e.type === 'response.created').length <= 1, 'stream', 'more than one response.created', p);
  const terminals = events.map((e, i) => [e.type, i] as const).filter(([t]) => TERMINAL.has(t));
  check(terminals.length === 1, 'stream', `${terminals.length} terminal events`, p);
  check(terminals.length === 0 || terminals[0]![1] === events.length - 1, 'stream', 'events after the terminal event (the stream must close right after it)', p);

  // Item and part lifecycles (only for what this stream announced itself).
  const items = new Map<number, { id: string; done: boolean; type: string }>();
  const parts = new Map<string, boolean>(); // `${output_index}:${content_index}` -> done
  const responseId = events.find((e) => isObj(e.response))?.response?.id;
  for (const [i, e] of events.entries()) {
    const where = `event[${i}] ${e.type}`;
    for (const key of EVENT_FIELDS[e.type] ?? []) check(isObj(e) && key in e, where, `missing ${key}`, p);
    if (isObj(e.response)) {
      p.push(...responseProblems(e.response, `${where}.response`));
      check(e.response.id === responseId, where, 'response id changed within the stream', p);
    }
    const oi = e.output_index;
    switch (e.type) {
      case 'response.output_item.added':
        check(!items.has(oi), where, `output_index ${oi} added twice`, p);
        items.set(oi, { id: e.item?.id, done: false, type: e.item?.type });
        p.push(...itemProblems(e.item, `${where}.item`));
        break;
      case 'response.output_item.done': {
        const it = items.get(oi);
        if (it || !resumed) {
          check(it && !it.done, where, `done for an item not open at output_index ${oi}`, p);
          check(!it || it.id === e.item?.id, where, 'item id differs from its added event', p);
          for (const [k, done] of parts) if (k.startsWith(`${oi}:`)) check(done, where, `content part ${k} not done before its item`, p);
          if (it) it.done = true;
        }
        p.push(...itemProblems(e.item, `${where}.item`));
        break;
      }
      case 'response.content_part.added':
      case 'response.reasoning_summary_part.added': {
        const it = items.get(oi);
        if (it || !resumed) check(it && !it.done && it.id === e.item_id, where, 'part added outside an open item', p);
        parts.set(`${oi}:${e.content_index ?? `s${e.summary_index}`}`, false);
        break;
      }
      case 'response.content_part.done':
      case 'response.reasoning_summary_part.done': {
        const k = `${oi}:${e.content_index ?? `s${e.summary_index}`}`;
        if (parts.has(k) || !resumed) check(parts.get(k) === false, where, `part ${k} done but not open`, p);
        parts.set(k, true);
        break;
      }
      default:
        if (/\.(delta|done)$/.test(e.type) && typeof oi === 'number' && !e.type.startsWith('response.output_item')) {
          const it = items.get(oi);
          if (it || !resumed) {
            check(it && !it.done, where, `${e.type} outside an open item`, p);
            check(!it || it.id === e.item_id, where, 'item_id does not match the open item', p);
            if ('content_index' in e && /output_text|refusal|reasoning_text/.test(e.type)) {
              check(parts.get(`${oi}:${e.content_index}`) === false, where, 'text event outside an open content part', p);
            }
          }
          if (e.type === 'response.output_text.delta' || e.type === 'response.output_text.done') {
            check(Array.isArray(e.logprobs), where, 'logprobs: []', p);
          }
        }
    }
  }
  const last = events.at(-1);
  if (last?.type === 'response.completed') {
    for (const [oi, it] of items) check(it.done, 'stream', `item ${oi} never done before response.completed`, p);
    check(last.response.output.length >= items.size, 'stream', 'response.completed does not carry the whole output', p);
  }
  return p;
}

/** Records problems (the setup file fails the test on any); returns them too. */
export function recordProblems(problems: string[], context: string): string[] {
  for (const problem of problems.slice(0, 20)) violations.push(`${context}: ${problem}`);
  return problems;
}

/**
 * A fetch for SDK clients in tests: passes everything through and checks every Response
 * object and SSE stream it carries.
 */
export const conformingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const url = String(input instanceof Request ? input.url : input);
  const type = res.headers.get('content-type') ?? '';
  if (!res.body || res.status !== 200) return res;
  const startingAfter = Number(new URL(url).searchParams.get('starting_after') ?? -1);
  const [mine, theirs] = res.body.tee();
  if (type.startsWith('text/event-stream')) {
    void new Response(mine).text().then((text) => {
      const events = text.split('\n\n').filter((f) => f.trim()).map((f) => JSON.parse(f.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
      // A client that stopped reading early saw a prefix: check only what was read in full.
      recordProblems(streamProblems(events, { startingAfter }).filter((x) => !/terminal|never done/.test(x) || events.some((e) => TERMINAL.has(e.type))), `SSE ${url}`);
    }).catch(() => undefined);
  } else if (type.startsWith('application/json')) {
    void new Response(mine).json().then((body) => {
      if (body?.object === 'response' && !('deleted' in body)) recordProblems(responseProblems(body), `JSON ${url}`);
    }).catch(() => undefined);
  } else {
    void mine.cancel();
  }
  return new Response(theirs, { status: res.status, statusText: res.statusText, headers: res.headers });
};
