import type { ChatContentPart, JsonObject } from '../protocol/types.ts';
import { TranslationError } from './errors.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** One Responses content part -> one Chat content part. */
export function partToChat(part: unknown, param: string): ChatContentPart {
  if (!part || typeof part !== 'object') throw new TranslationError(`Invalid content part at ${param}.`, param);
  const p = part as JsonObject;
  switch (p.type) {
    case 'input_text':
    case 'output_text': // assistant history
    case 'text':
      return { type: 'text', text: str(p.text) ?? '' };
    case 'refusal': // a past refusal is just text to the model
      return { type: 'text', text: str(p.refusal) ?? '' };
    case 'input_image': {
      const url = str(p.image_url);
      if (!url) {
        if (p.file_id) throw new TranslationError('Image file ids (file_id) are not supported by chat backends; send image_url as an http(s) or data URL.', param);
        throw new TranslationError(`${param}.image_url is required.`, param);
      }
      const detail = str(p.detail);
      return { type: 'image_url', image_url: detail ? { url, detail } : { url } };
    }
    case 'input_file': {
      if (p.file_url) throw new TranslationError('File URLs (file_url) are not supported by chat backends; send file_data.', param);
      const file: { file_id?: string; file_data?: string; filename?: string } = {};
      for (const k of ['file_data', 'filename', 'file_id'] as const) if (str(p[k])) file[k] = p[k] as string;
      if (!file.file_data && !file.file_id) throw new TranslationError(`${param} needs file_data or file_id.`, param);
      return { type: 'file', file };
    }
    case 'input_audio': {
      const a = (p.input_audio ?? {}) as JsonObject;
      if (!str(a.data) || !str(a.format)) throw new TranslationError(`${param}.input_audio needs data and format.`, param);
      return { type: 'input_audio', input_audio: { data: a.data as string, format: a.format as string } };
    }
    default:
      throw new TranslationError(`Content part type '${String(p.type)}' is not supported by this backend.`, param);
  }
}

/** The text of text parts, joined by `separator`; null when some part is not text. */
export function textOnly(parts: readonly ChatContentPart[], separator = ''): string | null {
  const texts: string[] = [];
  for (const p of parts) {
    if (p.type !== 'text') return null;
    texts.push(p.text);
  }
  return texts.join(separator);
}
