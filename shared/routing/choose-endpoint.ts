import { ApiError } from '../protocol/errors.ts';
import type { Backend, Clock, Endpoint } from '../ports.ts';
import { matchModel } from './models.ts';

interface ModelList { models: string[]; fetchedAt: number; ok: boolean; refreshing?: Promise<void> }

export interface Choice { endpoint: Endpoint; model: string }

/**
 * The spec's `choose_endpoint`: among the endpoints that advertise the model, the least busy
 * one (requests in flight from this process). Model lists are cached with
 * stale-while-revalidate; a failed fetch is remembered briefly so a dead endpoint is not
 * asked on every request.
 */
export class EndpointChooser {
  private readonly lists = new Map<string, ModelList>();
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly endpoints: readonly Endpoint[],
    private readonly backend: Backend,
    private readonly clock: Clock,
    private readonly opts: { ttlMs: number; failureTtlMs?: number; fetchTimeoutMs?: number },
  ) {}

  async choose(model: string): Promise<Choice> {
    const lists = await Promise.all(this.endpoints.map((ep) => this.modelsOf(ep)));
    const candidates: Choice[] = [];
    this.endpoints.forEach((endpoint, i) => {
      const name = matchModel(model, lists[i]!);
      if (name) candidates.push({ endpoint, model: endpoint.kind === 'responses' ? name.replace(/:latest$/, '') : name });
    });
    if (candidates.length === 0) {
      throw new ApiError(404, `The model '${model}' does not exist or is not served by any configured endpoint.`, 'invalid_request_error', 'model', 'model_not_found');
    }
    // Least busy first; ties keep config order.
    return candidates.reduce((best, c) => (this.load(c) < this.load(best) ? c : best));
  }

  /** Counts a request against the endpoint-model until the returned release is called. */
  acquire(choice: Choice): () => void {
    const key = `${choice.endpoint.url}|${choice.model}`;
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
    };
  }

  private load(c: Choice): number {
    return this.inFlight.get(`${c.endpoint.url}|${c.model}`) ?? 0;
  }

  private async modelsOf(ep: Endpoint): Promise<string[]> {
    const now = this.clock.nowMs();
    const cached = this.lists.get(ep.url);
    const ttl = cached?.ok === false ? (this.opts.failureTtlMs ?? 5_000) : this.opts.ttlMs;
    if (cached && now - cached.fetchedAt < ttl) return cached.models;
    if (cached?.ok) {
      // Stale: serve it and refresh in the background.
      cached.refreshing ??= this.refresh(ep).finally(() => { cached.refreshing = undefined; });
      return cached.models;
    }
    await this.refresh(ep);
    return this.lists.get(ep.url)!.models;
  }

  private async refresh(ep: Endpoint): Promise<void> {
    try {
      const models = await this.backend.listModels(ep, { timeoutMs: this.opts.fetchTimeoutMs ?? 5_000 });
      this.lists.set(ep.url, { models, fetchedAt: this.clock.nowMs(), ok: true });
    } catch {
      const previous = this.lists.get(ep.url);
      this.lists.set(ep.url, { models: previous?.models ?? [], fetchedAt: this.clock.nowMs(), ok: false });
    }
  }
}
