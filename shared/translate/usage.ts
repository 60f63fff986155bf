import type { ChatUsage, Usage } from '../protocol/types.ts';

/** Chat usage -> Responses usage; the details objects are always present (the public API has them). */
export function usageChatToResponses(u: ChatUsage | null | undefined): Usage | null {
  if (!u) return null;
  const input = u.prompt_tokens ?? 0;
  const output = u.completion_tokens ?? 0;
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: u.total_tokens ?? input + output,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
  };
}
