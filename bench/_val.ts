import { parseCreateRequest } from '../shared/protocol/validate.ts';
import { newResponseObject } from '../shared/protocol/response.ts';
import { buildChatRequest, responsesInputToMessages, normalizeInputItems, chatMessageToOutputItems } from '../shared/translate/index.ts';
import { newId } from '../shared/protocol/ids.ts';
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const body = JSON.stringify({ model: 'chat', input: 'Say sixty words.', store: false });
const N = 50000;
function b(name: string, fn: () => unknown) { for (let i = 0; i < 5000; i++) fn(); const t = cpu(); for (let i = 0; i < N; i++) fn(); console.log(name.padEnd(30), ((cpu() - t) * 1e6 / N).toFixed(0), 'ns'); }
const req = parseCreateRequest(JSON.parse(body));
const completion = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'chat:latest', choices: [{ index: 0, message: { role: 'assistant', content: Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ') }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 80, total_tokens: 85 } });
for (let k = 0; k < 2; k++) {
b('JSON.parse body', () => JSON.parse(body));
b('parseCreateRequest', () => parseCreateRequest(JSON.parse(body)));
b('normalizeInputItems', () => normalizeInputItems(req.input, newId));
b('newResponseObject', () => newResponseObject({ id: newId('resp'), model: 'chat', createdAt: 1, status: 'in_progress', request: { ...req, store: false } }));
b('messages+buildChatRequest', () => JSON.stringify(buildChatRequest(req, responsesInputToMessages(normalizeInputItems(req.input, newId), req.instructions, { reasoning: 'replay' }), 'chat:latest', { stream: false })));
b('parse completion+output', () => chatMessageToOutputItems(JSON.parse(completion).choices[0].message));
const resp = newResponseObject({ id: newId('resp'), model: 'chat', createdAt: 1, status: 'completed', request: { ...req, store: false } });
b('stringify response', () => JSON.stringify(resp));
}
