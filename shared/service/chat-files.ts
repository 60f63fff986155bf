// `input_file` parts for a Chat endpoint that takes files as text (`files: text`, the default:
// Ollama, vLLM and llama.cpp refuse Chat `file` parts): each file becomes a text part with its
// name (PDFs: their text), or an image part for an image. Only what is sent upstream changes;
// the stored input keeps the files as the client sent them.
import { isObj, type InputItem, type JsonObject } from '../protocol/types.ts';
import type { DocumentReader } from '../ports.ts';
import { decodeFileData, fileKind, fileTextPart, unreadableFile, utf8Text } from '../translate/files.ts';

/** Most text one PDF gives the model (about 250k tokens: more than any context we serve). */
export const MAX_PDF_CHARS = 1_000_000;


/**
 * The items with every `input_file` part (in messages and tool outputs) turned into text or an
 * image. `paramOf(i)` names item i for errors (the client's `input[n]`, or the history).
 */
export async function filesAsText(
  items: readonly InputItem[], docs: DocumentReader, paramOf: (i: number) => string, maxPdfChars = MAX_PDF_CHARS,
): Promise<InputItem[]> {
  if (!items.some(hasFile)) return [...items];
  return Promise.all(items.map(async (item, i) => {
    if (!hasFile(item)) return item;
    const key = Array.isArray(item.content) ? 'content' : 'output';
    const parts = item[key] as unknown[];
    const converted = await Promise.all(parts.map((p, j) => (isFile(p) ? fileAsPart(p, docs, `${paramOf(i)}.${key}[${j}]`, maxPdfChars) : p)));
    return { ...item, [key]: converted };
  }));
}

const isFile = (p: unknown): p is JsonObject => isObj(p) && p.type === 'input_file';
const hasFile = (item: InputItem): boolean =>
  [item.content, item.output].some((list) => Array.isArray(list) && list.some(isFile));

async function fileAsPart(part: JsonObject, docs: DocumentReader, param: string, maxPdfChars: number): Promise<JsonObject> {
  const filename = typeof part.filename === 'string' ? part.filename : null;
  if (typeof part.file_data !== 'string' || !part.file_data) {
    const why = part.file_url ? 'file URLs (file_url) are not fetched; send the file as file_data'
      : part.file_id ? 'file ids (file_id) need a Files API this gateway does not have; send the file as file_data'
        : 'it has no file_data';
    throw unreadableFile(param, filename, why);
  }
  const file = decodeFileData(part.file_data);
  switch (fileKind(file, filename)) {
    case 'text': {
      const text = utf8Text(file.bytes);
      if (text === null) throw unreadableFile(param, filename, 'it is not UTF-8 text');
      return fileTextPart(filename, text);
    }
    case 'pdf': {
      let read: { text: string; truncated: boolean };
      try {
        read = await docs.pdfText(file.bytes, maxPdfChars);
      } catch (err) {
        throw unreadableFile(param, filename, `it could not be read as a PDF (${(err as Error).message})`);
      }
      const note = read.truncated ? `\n[the rest of this PDF was left out: it has more than ${maxPdfChars} characters of text]` : '';
      return fileTextPart(filename, (read.text || '[this PDF has no text layer: no text could be extracted]') + note);
    }
    case 'image':
      return { type: 'input_image', image_url: part.file_data.startsWith('data:') ? part.file_data : `data:${file.mime};base64,${part.file_data}`, detail: 'auto' };
    default:
      throw unreadableFile(param, filename, `this backend takes files as text, and only text files and PDFs can be turned into text (got ${file.mime ?? 'an unknown type'})`);
  }
}
