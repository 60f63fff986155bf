export { TranslationError } from './errors.ts';
export { responsesInputToMessages, type InputOptions } from './input.ts';
export { chatMessageToOutputItems, type OutputIds } from './output.ts';
export { usageChatToResponses } from './usage.ts';
export { planTools, toolChoiceToChat, customInputOf, type ChatTool, type ChatToolChoice, type ToolPlan, type ToolTarget, type UnsupportedTools } from './tools.ts';
export { textFormatToResponseFormat, type ChatResponseFormat } from './format.ts';
export { buildChatRequest, checkChatTools, leftOutToolsHeader, LEFT_OUT_TOOLS_HEADER } from './request.ts';
export { messagesToResponsesInput } from './reverse.ts';
export { normalizeInputItems, outputItemsToInputItems } from './items.ts';
