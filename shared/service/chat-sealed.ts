// Sealed content on its way to a Chat backend: what the gateway sealed earlier (protocol/sealed.ts)
// is opened, so the model sees its earlier reasoning (replayed as reasoning_content) and a
// compaction's summary (as a user message); the opaque blob itself never reaches the model.
import { badRequest } from '../protocol/errors.ts';
import { OPEN_FAILURES, type OpenFailure, type Sealer } from '../protocol/sealed.ts';
import type { InputItem } from '../protocol/types.ts';
import { summaryMessage } from '../translate/compaction.ts';
import { log } from '../log.ts';

const blobOf = (item: InputItem): string | null =>
  typeof item.encrypted_content === 'string' && item.encrypted_content !== '' ? item.encrypted_content : null;

/**
 * `items` with their sealed content opened. `param(i)` names item i for the client, or null for
 * an item of the history (stored by us, or a conversation's). A request's own blob that does not
 * open is a 400 naming it (`input[3].encrypted_content`); in the history the item keeps only what
 * it says in the clear, logged.
 */
export function unsealForChat(items: readonly InputItem[], sealer: Sealer, param: (i: number) => string | null): InputItem[] {
  // One item out per item in: callers name items by their index.
  const out: InputItem[] = [];
  items.forEach((item, i) => {
    const blob = blobOf(item);
    const kind = item.type === 'reasoning' ? 'reasoning' : item.type === 'compaction' ? 'compaction' : null;
    if (!blob || !kind) {
      out.push(item);
      return;
    }
    const opened = sealer.open(kind, blob);
    if ('text' in opened) {
      out.push(kind === 'reasoning' ? { ...item, encrypted_content: null, content: [{ type: 'reasoning_text', text: opened.text }] } : summaryMessage(opened.text));
      return;
    }
    failed(opened.failure, param(i), item);
    out.push({ ...item, encrypted_content: null }); // a compaction without its summary says nothing: it is left out
  });
  return out;
}

function failed(failure: OpenFailure, param: string | null, item: InputItem): void {
  if (param) throw badRequest(`${param}.encrypted_content ${OPEN_FAILURES[failure]}.`, `${param}.encrypted_content`, 'invalid_encrypted_content');
  log.warn('sealed content in the history did not open: the model gets the item without it', { type: item.type, id: item.id, failure });
}
