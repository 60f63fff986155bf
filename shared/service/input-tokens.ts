// POST /v1/responses/input_tokens (SDK `responses.inputTokens.count`): the tokens a request's
// input would take, counted on what the backend would get. Exact where the backend can count: a
// vLLM or llama.cpp tokenizer over the very Chat request the gateway would send (template and
// tools included), a native upstream's own input_tokens. Otherwise (Ollama has no tokenize API)
// an estimate (translate/token-estimate.ts), marked `estimated: true`.
import { badRequest } from '../protocol/errors.ts';
import { asCreateRequest, type CountRequest } from '../protocol/side-requests.ts';
import type { Choice } from '../routing/choose-endpoint.ts';
import { estimateTokens } from '../translate/token-estimate.ts';
import type { InputItem } from '../protocol/types.ts';
import { chatRequestOf } from './chat-path.ts';
import type { Caller, Services } from './context.ts';
import { nativeBody } from './native-path.ts';
import { readContext } from './turn.ts';
import { rethrowUpstream } from './upstream-errors.ts';

export interface TokenCount {
  object: 'response.input_tokens';
  input_tokens: number;
  /** Present (true) when no tokenizer counted: the number is the gateway's estimate. */
  estimated?: true;
}

interface Counted { tokens: number; estimated: boolean }

export async function countInputTokens(svc: Services, caller: Caller, req: CountRequest): Promise<TokenCount> {
  const { history, input, parent } = await readContext(svc, caller, req);
  // Chained from a response, the model may go unsaid (it is the response's).
  const model = req.model ?? parent?.response.model;
  if (!model) throw badRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  const ranked = await svc.router.rank(model);
  // Counting generates nothing: it takes no concurrency slot, and an endpoint that cannot be reached is passed over.
  let failure: unknown;
  for (const choice of ranked) {
    try {
      const { tokens, estimated } = await count(svc, choice, req, model, history, input);
      return { object: 'response.input_tokens', input_tokens: tokens, ...(estimated ? { estimated: true as const } : {}) };
    } catch (err) {
      failure = err;
      if ((err as { retryable?: boolean }).retryable !== true) break;
    }
  }
  return rethrowUpstream(failure);
}

async function count(svc: Services, choice: Choice, req: CountRequest, model: string, history: InputItem[], input: InputItem[]): Promise<Counted> {
  const call = { timeoutMs: svc.config.upstreamTimeoutMs };
  if (choice.endpoint.kind === 'responses') {
    const body = nativeBody(asCreateRequest(req, choice.model), choice.model, [...history, ...input]);
    const answer = await svc.backend.responsesJson(choice.endpoint, 'input_tokens', body, call);
    if (typeof answer.input_tokens === 'number') return { tokens: answer.input_tokens, estimated: false };
  }
  const create = asCreateRequest(req, model);
  const { request: chat } = await chatRequestOf(svc, choice, create, history, input, false);
  const counted = choice.endpoint.kind === 'chat' ? await svc.backend.countTokens(choice.endpoint, chat, call) : null;
  return counted === null ? { tokens: estimateTokens(chat), estimated: true } : { tokens: counted, estimated: false };
}
