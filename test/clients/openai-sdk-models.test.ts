// GET /v1/models and /v1/models/{id} as the openai SDK calls them (models.list, models.retrieve).
import OpenAI, { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type System } from '../helpers/harness.ts';

let sys: System;
let client: OpenAI;
beforeAll(async () => {
  sys = await startSystem({ upstreams: [{ flavor: 'ollama', models: ['llama3.2:latest', 'qwen3:8b'] }, { flavor: 'vllm', models: ['meta-llama/Llama-3.1-8B-Instruct'] }] });
  client = new OpenAI({ baseURL: sys.base, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => sys.close());

describe('models', () => {
  it('models.list: every model the endpoints serve, once, in OpenAI’s shape', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) {
      expect(m).toEqual({ id: m.id, object: 'model', created: expect.any(Number), owned_by: 'system' });
      ids.push(m.id);
    }
    expect(ids.sort()).toEqual(['llama3.2:latest', 'meta-llama/Llama-3.1-8B-Instruct', 'qwen3:8b']);
  });

  it('models.retrieve: by the name a create takes (a slash in it too); an unknown one is a 404', async () => {
    expect(await client.models.retrieve('llama3.2')).toMatchObject({ id: 'llama3.2', object: 'model' });
    expect(await client.models.retrieve('meta-llama/Llama-3.1-8B-Instruct')).toMatchObject({ id: 'meta-llama/Llama-3.1-8B-Instruct' });
    await expect(client.models.retrieve('ghost')).rejects.toBeInstanceOf(NotFoundError);
  });
});
