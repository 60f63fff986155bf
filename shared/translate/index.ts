export { TranslationError } from './errors.ts';
export { responsesInputToMessages } from './input.ts';
export { chatMessageToOutputItems } from './output.ts';
export { usageChatToResponses } from './usage.ts';
export { planTools, toolChoiceToChat, customInputOf, type ToolPlan } from './tools.ts';
export { textFormatToResponseFormat } from './format.ts';
export { buildChatRequest, checkChatTools, leftOutToolsHeader } from './request.ts';
export { messagesToResponsesInput } from './reverse.ts';
export { normalizeInputItems, outputItemsToInputItems } from './items.ts';
