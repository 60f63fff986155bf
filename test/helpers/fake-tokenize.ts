// The fake upstreams' routes beyond chat and responses (fake-upstream.ts dispatches here):
//   - vLLM `POST /tokenize` (vllm/entrypoints/serve/tokenize: the chat form `{model, messages,
//     tools?, add_generation_prompt}` renders the template and counts; the completion form
//     `{prompt}`; answer `{count, max_model_len, tokens, token_strs}`);
//   - llama.cpp `POST /apply-template` (`{messages}` -> `{prompt}`) and `POST /tokenize`
//     (`{content}` -> `{tokens}`; a body without `content` counts nothing: `{tokens: []}`), on a
//     server that otherwise answers as the vllm flavor (llama-server's OpenAI layer);
//   - OpenAI `POST /v1/responses/input_tokens` and `POST /v1/responses/compact`;
//   - Ollama has no tokenize route: 404, as there.
// The "tokenizer" is ours and deterministic (fakeTokenCount), so tests can tell a count from an estimate.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export type FakeTokenizer = 'vllm' | 'llama.cpp' | 'none';

type Msg = { role: string; content?: unknown };

const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('') : '';

/** The fake chat template: role markers around each message's text, the tools' JSON first. */
export function fakeTemplate(messages: Msg[], tools?: unknown[]): string {
  const head = tools?.length ? `<|tools|>${JSON.stringify(tools)}` : '';
  return `${head}${messages.map((m) => `<|${m.role}|>${textOf(m.content)}`).join('')}<|assistant|>`;
}

/** The fake tokenizer: words and single punctuation marks. */
export const fakeTokenCount = (text: string): number => (text.match(/\w+|[^\s\w]/g) ?? []).length;

const hex = (n: number) => randomBytes(n).toString('hex');
const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + i);

function send(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  return true;
}

/** Answers the route if it is one of these; false otherwise. */
export function answerSideRoute(flavor: string, tokenizer: FakeTokenizer, route: string, body: any, res: ServerResponse): boolean {
  if (tokenizer === 'vllm' && route === 'POST /tokenize') {
    if (!body || (!Array.isArray(body.messages) && typeof body.prompt !== 'string')) return send(res, 400, { error: { message: 'Field required', type: 'BadRequestError', param: null, code: 400 } });
    const n = fakeTokenCount(typeof body.prompt === 'string' ? body.prompt : fakeTemplate(body.messages, body.tools));
    return send(res, 200, { count: n, max_model_len: 32768, tokens: ids(n), token_strs: null });
  }
  if (tokenizer === 'llama.cpp' && route === 'POST /apply-template') {
    return send(res, 200, { prompt: fakeTemplate(body?.messages ?? [], body?.tools) });
  }
  if (tokenizer === 'llama.cpp' && route === 'POST /tokenize') {
    return send(res, 200, { tokens: ids(typeof body?.content === 'string' ? fakeTokenCount(body.content) : 0) });
  }
  if (flavor === 'openai' && route === 'POST /v1/responses/input_tokens') {
    return send(res, 200, { object: 'response.input_tokens', input_tokens: fakeTokenCount(JSON.stringify([body?.instructions ?? '', body?.input ?? '', body?.tools ?? []])) });
  }
  if (flavor === 'openai' && route === 'POST /v1/responses/compact') {
    const input: any[] = typeof body?.input === 'string' ? [{ role: 'user', content: body.input }] : body?.input ?? [];
    const users = input.filter((i) => (i.type ?? 'message') === 'message' && i.role === 'user').map((i) => ({
      id: `msg_up${hex(12)}`, type: 'message', role: 'user', status: 'completed',
      content: typeof i.content === 'string' ? [{ type: 'input_text', text: i.content }] : i.content,
    }));
    const usage = { input_tokens: 100, input_tokens_details: { cached_tokens: 0 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 120 };
    return send(res, 200, {
      id: `resp_up${hex(12)}`, object: 'response.compaction', created_at: Math.floor(Date.now() / 1000),
      output: [...users, { id: `cmp_up${hex(12)}`, type: 'compaction', encrypted_content: `gAAAAB${hex(24)}` }], usage,
    });
  }
  return false;
}
