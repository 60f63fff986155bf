// A Chat tool call as the Responses item its tool calls for, and that item's events: a
// function_call (`response.function_call_arguments.*`, with its `namespace` when it is one of a
// namespace's functions) or a custom_tool_call (`response.custom_tool_call_input.*`, the input
// decoded from the `{"input": ...}` arguments as they stream).
import type { IdPrefix } from '../protocol/ids.ts';
import type { CustomToolCallItem, FunctionCallItem, StreamEvent } from '../protocol/types.ts';
import type { ToolTarget } from '../translate/tools.ts';
import { CustomInputDecoder } from './custom-input.ts';
import * as E from './events.ts';

/** One upstream tool call (by its chunk index) before and while it is an output item. */
export interface ToolCall { id: string; name: string; args: string; open: OpenCall | null; closed: boolean }

export interface OpenCall {
  kind: 'call';
  index: number;
  item: FunctionCallItem | CustomToolCallItem;
  call: ToolCall;
  /** Custom tools: the input decoder. */
  input: CustomInputDecoder | null;
}

type Seq = () => number;

/** The item for `call` at output `index`, announced (with the arguments that came before its name). */
export function startCall(
  call: ToolCall, index: number, target: ToolTarget | undefined, newId: (p: IdPrefix) => string, seq: Seq, out: StreamEvent[],
): OpenCall {
  const callId = call.id || `call_${newId('fc').slice(3)}`;
  const namespace = target?.namespace ? { namespace: target.namespace } : {};
  const custom = target?.kind === 'custom';
  const item: FunctionCallItem | CustomToolCallItem = custom
    ? { type: 'custom_tool_call', id: newId('ctc'), call_id: callId, ...namespace, name: target.name, input: '', status: 'in_progress' }
    : { type: 'function_call', id: newId('fc'), call_id: callId, ...namespace, name: target?.name ?? call.name, arguments: '', status: 'in_progress' };
  out.push(E.itemAdded(seq(), index, { ...item }));
  const open: OpenCall = { kind: 'call', index, item, call, input: custom ? new CustomInputDecoder() : null };
  if (call.args) callFragment(open, call.args, seq, out);
  return open;
}

/** More of the call's arguments. */
export function callFragment(open: OpenCall, args: string, seq: Seq, out: StreamEvent[]): void {
  const { item, index } = open;
  if (item.type === 'function_call') {
    item.arguments += args;
    out.push(E.argsDelta(seq(), item.id, index, args));
    return;
  }
  const text = open.input!.push(args);
  if (!text) return;
  item.input += text;
  out.push(E.customInputDelta(seq(), item.id, index, text));
}

/** The call's done event for its arguments or input (the item's own done event is the caller's). */
export function finishCall(open: OpenCall, seq: Seq, out: StreamEvent[]): void {
  const { item, index } = open;
  open.call.closed = true;
  if (item.type === 'function_call') {
    out.push(E.argsDone(seq(), item.id, index, item.name, item.arguments));
    return;
  }
  const { input, rest } = open.input!.finish();
  if (rest) out.push(E.customInputDelta(seq(), item.id, index, rest));
  item.input = input;
  out.push(E.customInputDone(seq(), item.id, index, input));
}
