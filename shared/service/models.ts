// GET /v1/models and /v1/models/{id}: the models the endpoints serve, in OpenAI's list shape.
import type { Services } from './context.ts';

export interface ModelObject { id: string; object: 'model'; created: number; owned_by: string }

const modelObject = (id: string, created: number): ModelObject => ({ id, object: 'model', created, owned_by: 'system' });

/** Every model some endpoint advertises (as it names it), each once. */
export async function listModels(svc: Services): Promise<{ object: 'list'; data: ModelObject[] }> {
  const seen = await svc.router.chooser.models();
  return { object: 'list', data: [...seen].map(([id, created]) => modelObject(id, created)) };
}

/** One model, as the client named it; 404 (or 503 when no endpoint could be asked) as a create would say. */
export async function retrieveModel(svc: Services, id: string): Promise<ModelObject> {
  const [choice] = await svc.router.rank(id);
  const seen = await svc.router.chooser.models();
  return modelObject(id, seen.get(choice!.model) ?? seen.get(id) ?? 0);
}
