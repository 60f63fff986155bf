// The model's side of a weather agent, as the fake upstream plays it for client tests: call
// get_weather for the city the question names (Paris unless Tokyo) once, then answer from its result.
import type { RecordedRequest, Reply } from './fake-upstream.ts';

/** A Chat Completions message as the upstream receives it. */
export interface ChatMessage { role: string; content?: unknown; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }

export function weatherModel(req: RecordedRequest): Reply {
  const messages = (req.body?.messages ?? []) as ChatMessage[];
  const last = messages.at(-1);
  if (last?.role === 'tool') {
    const result = JSON.parse(String(last.content)) as { city: string; tempC: number };
    return { text: `It is ${result.tempC}°C in ${result.city}.` };
  }
  const question = String(last?.content ?? '');
  const city = /Tokyo/.test(question) ? 'Tokyo' : 'Paris';
  if (/weather/i.test(question)) return { toolCalls: [{ name: 'get_weather', arguments: JSON.stringify({ city }) }] };
  return { text: `You asked: ${question}` };
}
