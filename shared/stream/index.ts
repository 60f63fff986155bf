// Pure stream conversions: SSE framing, Chat chunks -> Responses events, replay of stored
// responses, and pass-through of native Responses streams under our ids.
export { encodeEvent, parseSse, SseDecoder, SseEventTooLarge, type SseFrame } from './sse.ts';
export { ChatStreamTranslator } from './chat-to-responses.ts';
export { responseToEvents } from './replay.ts';
export { NativeStreamRewriter, rewriteNativeResponse } from './native.ts';
