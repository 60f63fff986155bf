// `input_file` parts for Chat backends that take no Chat `file` parts (Ollama, vLLM and llama.cpp
// all refuse them): a text-like file (by MIME type, file name, or because its bytes are UTF-8
// text) is inlined as text with its name; an image becomes an image part; a PDF becomes its
// text (read by the caller: PDF parsing is I/O-free but not ours, see adapters/pdf-text.ts).
// Pure helpers; the walk over the items is service/chat-files.ts.
import type { JsonObject } from '../protocol/types.ts';
import { TranslationError } from './errors.ts';

export type FileKind = 'text' | 'pdf' | 'image' | 'binary';

export interface FileBytes { mime: string | null; bytes: Uint8Array }

/** `data:<mime>;base64,<data>` (or bare base64, as some clients send `file_data`). */
export function decodeFileData(data: string): FileBytes {
  const m = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(data);
  if (!m) return { mime: null, bytes: Buffer.from(data, 'base64') };
  const base64 = m[2]!.split(';').includes('base64');
  const body = m[3]!;
  return { mime: m[1]?.toLowerCase() || null, bytes: base64 ? Buffer.from(body, 'base64') : Buffer.from(decodeURIComponent(body), 'utf8') };
}

const TEXT_MIMES = new Set([
  'application/json', 'application/x-ndjson', 'application/xml', 'application/javascript', 'application/x-javascript',
  'application/typescript', 'application/x-yaml', 'application/yaml', 'application/toml', 'application/x-sh',
  'application/sql', 'application/x-httpd-php', 'application/x-python', 'application/csv', 'application/x-tex',
]);
const TEXT_EXTENSIONS = new Set([
  'txt', 'text', 'md', 'markdown', 'rst', 'csv', 'tsv', 'json', 'jsonl', 'ndjson', 'yaml', 'yml', 'toml', 'ini', 'cfg',
  'conf', 'env', 'xml', 'html', 'htm', 'css', 'scss', 'js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'py', 'rb', 'go', 'rs',
  'java', 'kt', 'kts', 'scala', 'c', 'h', 'cc', 'cpp', 'hpp', 'cs', 'php', 'pl', 'lua', 'r', 'swift', 'm', 'sh', 'bash',
  'zsh', 'fish', 'ps1', 'bat', 'sql', 'graphql', 'proto', 'tex', 'log', 'diff', 'patch', 'vue', 'svelte', 'dart', 'ex',
  'exs', 'erl', 'hs', 'ml', 'clj', 'tf', 'gradle', 'dockerfile', 'makefile', 'gitignore', 'properties', 'srt', 'vtt',
]);
const GENERIC_MIMES = new Set(['application/octet-stream', 'binary/octet-stream', '']);

const extensionOf = (filename: string | null): string => {
  const name = (filename ?? '').toLowerCase().split(/[\\/]/).pop() ?? '';
  return name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name; // `Makefile`, `Dockerfile`
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as UTF-8 text, or null when they are not (invalid UTF-8, or NUL bytes: binary). */
export function utf8Text(bytes: Uint8Array): string | null {
  try {
    const text = utf8.decode(bytes);
    return text.includes('\0') ? null : text;
  } catch {
    return null;
  }
}

/** What a file is, from its MIME type, then its name, then (for generic types) its bytes. */
export function fileKind(file: FileBytes, filename: string | null): FileKind {
  const mime = file.mime ?? '';
  const ext = extensionOf(filename);
  if (mime === 'application/pdf' || (GENERIC_MIMES.has(mime) && ext === 'pdf')) return 'pdf';
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('text/') || TEXT_MIMES.has(mime) || /\+(json|xml)$/.test(mime)) return 'text';
  if (GENERIC_MIMES.has(mime) && TEXT_EXTENSIONS.has(ext)) return 'text';
  if (GENERIC_MIMES.has(mime) && utf8Text(file.bytes) !== null && file.bytes.length > 0) return 'text';
  return 'binary';
}

/** A file's text as the model sees it: wrapped with its name, so it can tell files apart and cite them. */
export function fileTextPart(filename: string | null, text: string): JsonObject {
  const name = (filename ?? 'file').replace(/"/g, "'");
  return { type: 'input_text', text: `<file name="${name}">\n${text}\n</file>` };
}

/** An `input_file` part that cannot become text, refused naming it. */
export function unreadableFile(param: string, filename: string | null, why: string): TranslationError {
  return new TranslationError(`${param}: the file${filename ? ` '${filename}'` : ''} cannot be given to this backend: ${why}`, param);
}
