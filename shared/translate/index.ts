export { TranslationError } from './errors.ts';
export { responsesInputToMessages, type InputOptions } from './input.ts';
export { chatMessageToOutputItems, type OutputIds } from './output.ts';
export { usageChatToResponses } from './usage.ts';
export { toolsResponsesToChat, toolChoiceResponsesToChat, type ChatTool, type ChatToolChoice } from './tools.ts';
export { textFormatToResponseFormat, type ChatResponseFormat } from './format.ts';
export { buildChatRequest } from './request.ts';
export { messagesToResponsesInput } from './reverse.ts';
export { normalizeInputItems, outputItemsToInputItems } from './items.ts';
